import { KeyNotAvailableError } from './platform.ts';

export type NutPlatform = 'windows' | 'macos';

/** pyautogui key names → nut-js Key names, the same on Windows and macOS. */
const COMMON: Readonly<Record<string, string>> = {
  enter: 'Enter', tab: 'Tab', space: 'Space', backspace: 'Backspace', delete: 'Delete', escape: 'Escape',
  insert: 'Insert', home: 'Home', end: 'End', pageup: 'PageUp', pagedown: 'PageDown',
  up: 'Up', down: 'Down', left: 'Left', right: 'Right',
  ctrl: 'LeftControl', ctrlleft: 'LeftControl', ctrlright: 'RightControl',
  shift: 'LeftShift', shiftleft: 'LeftShift', shiftright: 'RightShift',
  alt: 'LeftAlt', altleft: 'LeftAlt', altright: 'RightAlt', option: 'LeftAlt', optionleft: 'LeftAlt', optionright: 'RightAlt',
  capslock: 'CapsLock', numlock: 'NumLock', scrolllock: 'ScrollLock', printscreen: 'Print', print: 'Print',
  apps: 'Menu', clear: 'Clear', fn: 'Fn',
  add: 'Add', subtract: 'Subtract', multiply: 'Multiply', divide: 'Divide', decimal: 'Decimal',
  volumeup: 'AudioVolUp', volumedown: 'AudioVolDown', volumemute: 'AudioMute',
  playpause: 'AudioPlay', nexttrack: 'AudioNext', prevtrack: 'AudioPrev', stop: 'AudioStop',
  ...Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`f${i + 1}`, `F${i + 1}`])),
  ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`num${i}`, `NumPad${i}`])),
};

/** The logo/command keys: pyautogui's 'win' and 'command' are the same physical key on each OS. */
const SYSTEM: Readonly<Record<NutPlatform, Readonly<Record<string, string>>>> = {
  windows: { win: 'LeftWin', winleft: 'LeftWin', winright: 'RightWin', command: 'LeftWin' },
  macos: { win: 'LeftCmd', winleft: 'LeftCmd', winright: 'RightCmd', command: 'LeftCmd' },
};

/** Unshifted characters of the base keys (US names; libnut maps each to the current layout's key). */
const CHARACTER_KEYS: Readonly<Record<string, string>> = {
  '`': 'Grave', '-': 'Minus', '=': 'Equal', '[': 'LeftBracket', ']': 'RightBracket', '\\': 'Backslash',
  ';': 'Semicolon', "'": 'Quote', ',': 'Comma', '.': 'Period', '/': 'Slash', ' ': 'Space',
};

/** The nut-js key for a pyautogui key name, or a KeyNotAvailableError saying why there is none. */
export function nutKeyFor(key: string, platform: NutPlatform): string {
  if (Object.hasOwn(SYSTEM[platform], key)) return SYSTEM[platform][key]!;
  if (Object.hasOwn(COMMON, key)) return COMMON[key]!;
  const chars = [...key];
  if (chars.length === 1) {
    const c = chars[0]!;
    if (/^[a-z]$/i.test(c)) return c.toUpperCase();
    if (/^[0-9]$/.test(c)) return `Num${c}`;
    if (Object.hasOwn(CHARACTER_KEYS, c)) return CHARACTER_KEYS[c]!;
    throw new KeyNotAvailableError(`'${key}' is not a key of its own on ${platform === 'macos' ? 'macOS' : 'Windows'}; to enter the character, type it: pyautogui.write(${JSON.stringify(key)})`);
  }
  throw new KeyNotAvailableError(`the '${key}' key cannot be pressed on ${platform === 'macos' ? 'macOS' : 'Windows'} through nut-js`);
}

/**
 * A key press that is really a character (pyautogui.press('!') or press('A')) is typed as text,
 * which enters exactly that character whatever the layout needs to produce it.
 */
export function isTypedCharacter(key: string): boolean {
  const chars = [...key];
  return chars.length === 1 && !/^[a-z0-9]$/.test(key) && !Object.hasOwn(CHARACTER_KEYS, key);
}
