import { expect, test } from 'vitest';
import { KEY_NAMES } from '../keys.ts';
import { Keymap, keysymFor } from './x11-keys.ts';

test('pyautogui names map to X keysyms', () => {
  expect(['enter', 'escape', 'ctrl', 'pageup', 'f12', 'num5', 'win', 'a', 'Z', '7', ':', ' ', 'é', '世'].map(keysymFor)).toEqual([
    'Return', 'Escape', 'Control_L', 'Prior', 'F12', 'KP_5', 'Super_L', 'a', 'Z', '7', 'colon', 'space', 'U00E9', 'U4E16',
  ]);
});

test('every pyautogui key name has a keysym or a clear refusal', () => {
  for (const name of KEY_NAMES) {
    try {
      expect(keysymFor(name)).toMatch(/^[A-Za-z0-9_]+$/);
    } catch (err) {
      expect((err as Error).message).toBe(`the '${name}' key cannot be pressed from software on X11`);
    }
  }
});

test('the keymap knows which keysyms the layout has, Latin-1 by name or code point', () => {
  const keymap = new Keymap('keycode  36 = Return NoSymbol Return\nkeycode  38 = a A a A\nkeycode  47 = semicolon colon\nkeycode  48 = eacute Eacute\nkeycode  49 = U20AC\nkeycode 8 =\n');
  expect(['Return', 'a', 'A', 'colon', 'U00E9', 'U00C9', 'U20AC'].map((s) => keymap.has(s))).toEqual([true, true, true, true, true, true, true]);
  expect(['U4E16', 'XF86Back', 'U00FC'].map((s) => keymap.has(s))).toEqual([false, false, false]);
});
