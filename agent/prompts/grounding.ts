import type { ChatMessage, ImageContent } from '../model.ts';

const GROUNDING_SYSTEM =
  'You are a GUI grounding assistant. You are shown a screenshot and asked for one element on it. ' +
  'Answer with a single line of code, pyautogui.click(x=<x>, y=<y>), where x and y are the centre of the ' +
  'element as fractions of the screenshot width and height, from 0 to 1, with three decimals.';

/**
 * A reply of the form the prompt asks for, as ground() reads it: what `kestrel bench` feeds
 * through the decoder to time a grounding step up to its point.
 */
export const GROUNDING_REPLY_EXAMPLE = 'pyautogui.click(x=0.512, y=0.347)';

/** Messages asking where `query` is on `image`: the image first, then the words (as Kimi-VL's examples do). */
export function groundingMessages(image: ImageContent, query: string): ChatMessage[] {
  return [
    { role: 'system', content: GROUNDING_SYSTEM },
    { role: 'user', content: [{ type: 'image', image }, { type: 'text', text: `Find: ${query}` }] },
  ];
}
