import { expect, test } from 'vitest';
import type { Action } from '../../shared/actions.ts';
import { anyOf, defaultStopRules, maxSteps, repeatedAction, terminalAction, timeLimit } from './stop-rules.ts';

const click = (x: number, y: number): Action[] => [{ kind: 'click', button: 'left', count: 1, at: { x, y } }];
const progress = (history: Action[][], now = 0) => ({ steps: history.length, history, startedAt: 0, now });

test('repeated action: the same spot within 1% counts as the same, a real move does not', () => {
  const rule = repeatedAction(3);
  expect(rule(progress([click(0.501, 0.3), click(0.5012, 0.2999), click(0.4996, 0.3004)]))).toMatchObject({ status: 'repeated_action' });
  expect(rule(progress([click(0.5, 0.3), click(0.5, 0.3), click(0.53, 0.3)]))).toBeUndefined();
  expect(rule(progress([click(0.5, 0.3), click(0.5, 0.3)]))).toBeUndefined();
  expect(rule(progress([[{ kind: 'type', text: 'a' }], [{ kind: 'type', text: 'a' }], [{ kind: 'type', text: 'a' }]]))).toMatchObject({ status: 'repeated_action' });
});

test('terminal actions carry the answer or reason', () => {
  expect(terminalAction(progress([click(0.1, 0.1), [{ kind: 'finished', answer: '42' }]]))).toEqual({ status: 'finished', reason: 'the model said the task is done', answer: '42' });
  expect(terminalAction(progress([[{ kind: 'fail', reason: 'no Bluetooth' }]]))).toEqual({ status: 'failed', reason: 'the model gave up: no Bluetooth' });
  expect(terminalAction(progress([[{ kind: 'call_user', message: 'password?' }]]))).toEqual({ status: 'call_user', reason: 'the model needs you: password?' });
  expect(terminalAction(progress([click(0.1, 0.1)]))).toBeUndefined();
});

test('rules compose in order; the defaults hold the rules about steps, and a time limit joins them', () => {
  expect(anyOf(maxSteps(1), timeLimit(10))(progress([click(0.1, 0.1)], 50))).toMatchObject({ status: 'max_steps' });
  expect(anyOf(timeLimit(10), maxSteps(1))(progress([click(0.1, 0.1)], 50))).toMatchObject({ status: 'time_limit' });
  const defaults = defaultStopRules({ maxSteps: 5, maxRepeats: 2 });
  expect(defaults(progress([click(0.1, 0.1)], 10))).toBeUndefined();
  expect(defaults(progress([click(0.1, 0.1), click(0.1, 0.1)], 10))).toMatchObject({ status: 'repeated_action' });
  // The time limit is the run's timeLimitMs, added by the Run (run-agent.test.ts), as here.
  expect(defaults(progress([click(0.1, 0.1)], 1000))).toBeUndefined();
  expect(anyOf(defaults, timeLimit(1000))(progress([click(0.1, 0.1)], 1000))).toMatchObject({ status: 'time_limit' });
  expect(defaultStopRules()(progress(Array.from({ length: 50 }, (_, i) => click(i / 100, 0.5))))).toMatchObject({ status: 'max_steps', reason: 'reached the limit of 50 steps' });
});
