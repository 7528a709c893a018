import { expect, test } from 'vitest';
import { RecordingOperator } from '../agent/testing.ts';
import { guardCapture } from './capture-guard.ts';

test("the overlay guard keeps the operator's refusal (the keyboard-layout check reaches the loop)", async () => {
  const operator = new RecordingOperator({ refuse: () => 'this keyboard layout has no F24 key' });
  const guarded = guardCapture(operator, { hide: async () => undefined, show: () => undefined }, true);
  expect(await guarded.refusal?.({ kind: 'press', key: 'f24', presses: 1 })).toBe('this keyboard layout has no F24 key');
});
