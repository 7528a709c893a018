import { expect, test } from 'vitest';
import { describeAction, type Action, type ActionWording, type DesktopPoint } from './actions.ts';

const pixels: ActionWording<DesktopPoint> = { point: (p) => `${p.x},${p.y}`, quote: (t) => JSON.stringify(t) };

test('describeAction: one phrase per action, points and model text written as the caller says', () => {
  const lines = (
    [
      { kind: 'click', button: 'right', count: 2, at: { x: 10, y: 20 } },
      { kind: 'drag', button: 'left', from: { x: 1, y: 2 }, to: { x: 3, y: 4 } },
      { kind: 'drag', button: 'left', to: { x: 3, y: 4 } },
      { kind: 'mouse_down', button: 'left' },
      { kind: 'type', text: 'a\nb' },
      { kind: 'press', key: 'enter', presses: 3 },
      { kind: 'key_up', key: 'ctrl' },
      { kind: 'finished', answer: '42' },
      { kind: 'fail' },
      { kind: 'call_user', message: 'the password' },
    ] satisfies Action<DesktopPoint>[]
  ).map((a) => describeAction(a, pixels));
  expect(lines).toEqual([
    'right double-click at 10,20',
    'drag from 1,2 to 3,4',
    'drag to 3,4',
    'mouse down left',
    'type "a\\nb"',
    'press enter ×3',
    'key up ctrl',
    'done (answer: "42")',
    'give up',
    'ask the person ("the password")',
  ]);
});
