import { expect, test } from 'vitest';
import type { DesktopAction } from './actions.ts';
import { forwardOperator } from './operator.ts';
import { FAKE_DISPLAY, RecordingOperator } from './testing/fakes.ts';

const press: DesktopAction = { kind: 'press', key: 'f24', presses: 1 };

test('forwardOperator forwards every member, the optional refusal included, and overrides win', async () => {
  const inner = new RecordingOperator({ refuse: (a) => (a.kind === 'press' ? 'no such key here' : undefined) });
  const signal = new AbortController().signal;
  const captured: string[] = [];
  const wrapped = forwardOperator(inner, {
    screenshot: async (s) => {
      captured.push(s === signal ? 'with the signal' : 'without');
      return inner.screenshot();
    },
  });
  expect(await wrapped.displays()).toEqual([FAKE_DISPLAY]);
  await wrapped.screenshot(signal);
  expect(captured).toEqual(['with the signal']);
  await wrapped.execute({ kind: 'wait', seconds: 0 }, signal);
  expect(inner.calls).toEqual(['screenshot', 'execute:wait']);
  expect(await wrapped.refusal!(press)).toBe('no such key here');
});

test('a member the inner operator lacks stays absent', () => {
  const bare = { displays: async () => [], screenshot: async () => Promise.reject(new Error('x')), execute: async () => undefined };
  const wrapped = forwardOperator(bare);
  expect('refusal' in wrapped).toBe(false);
  expect(Object.keys(wrapped).sort()).toEqual(['displays', 'execute', 'screenshot']);
});
