import { expect, test } from 'vitest';
import { ground } from './ground.ts';
import { GROUNDING_REPLY_EXAMPLE } from './prompts/grounding.ts';
import { ScriptedModel } from './testing/fakes.ts';

const image = { mimeType: 'image/png' as const, data: new Uint8Array([1, 2, 3]), width: 1000, height: 500 };

test.each([
  ['pyautogui.click(x=0.3, y=0.4)', { x: 0.3, y: 0.4 }, { px: 300, py: 200 }],
  ['◁think▷The icon is near (0.9, 0.9)?◁/think▷## Action:\nClick.\n## Code:\n```python\npyautogui.click(0.1, 0.2)\n```', { x: 0.1, y: 0.2 }, { px: 100, py: 100 }],
  ['pyautogui.moveTo(500, 250)', { x: 0.5, y: 0.5 }, { px: 500, py: 250 }],
  ['It is at (0.25, 0.75).', { x: 0.25, y: 0.75 }, { px: 250, py: 375 }],
  ['x=750, y=125', { x: 0.75, y: 0.25 }, { px: 750, py: 125 }],
])('%s', async (reply, point, pixel) => {
  const model = new ScriptedModel([reply]);
  const result = await ground(model, image, 'the icon');
  expect(result.point).toEqual(point);
  expect(result.pixel).toEqual(pixel);
  expect(result.raw).toBe(reply);
  expect(result.error).toBeUndefined();
  const [request] = model.requests;
  expect(request!.temperature).toBe(0);
  const user = request!.messages.at(-1)!;
  expect(user.content).toEqual([{ type: 'image', image: { mimeType: 'image/png', data: image.data } }, { type: 'text', text: 'Find: the icon' }]);
});

test.each([
  ['I cannot find it.', 'no ## Code: section'],
  ['◁think▷Looking at (0.5, 0.5) the', 'cut off inside ◁think▷'],
  ['pyautogui.press("enter")', 'names no point'],
  ['It is at (4000, 10).', 'outside the 1000×500 screenshot'],
])('no point in %j', async (reply, error) => {
  const result = await ground(new ScriptedModel([reply]), image, 'x');
  expect(result.point).toBeNull();
  expect(result.pixel).toBeNull();
  expect(result.error).toContain(error);
});

test('the grounding reply the model benchmark times is one ground() reads a point from', async () => {
  const result = await ground(new ScriptedModel([GROUNDING_REPLY_EXAMPLE]), image, 'the Save button');
  expect(result.point).toEqual({ x: 0.512, y: 0.347 });
});
