/**
 * pyautogui's key vocabulary, which Kimi-VL emits and Action key names use. Shared by the
 * parser (to reject names no keyboard has) and the desktop operator (to map them to keys).
 */

const NAMED_KEYS = [
  'accept', 'add', 'alt', 'altleft', 'altright', 'apps', 'backspace', 'browserback', 'browserfavorites',
  'browserforward', 'browserhome', 'browserrefresh', 'browsersearch', 'browserstop', 'capslock', 'clear',
  'command', 'convert', 'ctrl', 'ctrlleft', 'ctrlright', 'decimal', 'delete', 'divide', 'down', 'end',
  'enter', 'escape', 'execute', 'final', 'fn', 'hangul', 'hanja', 'help', 'home', 'insert', 'junja', 'kana',
  'kanji', 'launchapp1', 'launchapp2', 'launchmail', 'launchmediaselect', 'left', 'modechange', 'multiply',
  'nexttrack', 'nonconvert', 'numlock', 'option', 'optionleft', 'optionright', 'pagedown', 'pageup', 'pause',
  'playpause', 'prevtrack', 'print', 'printscreen', 'right', 'scrolllock', 'select', 'separator', 'shift',
  'shiftleft', 'shiftright', 'sleep', 'space', 'stop', 'subtract', 'tab', 'up', 'volumedown', 'volumemute',
  'volumeup', 'win', 'winleft', 'winright', 'yen',
  ...Array.from({ length: 24 }, (_, i) => `f${i + 1}`),
  ...Array.from({ length: 10 }, (_, i) => `num${i}`),
] as const;

/** Other spellings models and people use, mapped to pyautogui's canonical name. */
const ALIASES: Readonly<Record<string, string>> = {
  return: 'enter',
  esc: 'escape',
  del: 'delete',
  pgup: 'pageup',
  pgdn: 'pagedown',
  prtsc: 'printscreen',
  prtscr: 'printscreen',
  prntscrn: 'printscreen',
  hanguel: 'hangul',
  control: 'ctrl',
  cmd: 'command',
  super: 'win',
  meta: 'win',
  windows: 'win',
  spacebar: 'space',
  arrowup: 'up',
  arrowdown: 'down',
  arrowleft: 'left',
  arrowright: 'right',
  page_up: 'pageup',
  page_down: 'pagedown',
  caps_lock: 'capslock',
  '\n': 'enter',
  '\r': 'enter',
  '\t': 'tab',
  ' ': 'space',
};

const KNOWN = new Set<string>(NAMED_KEYS);

/**
 * The canonical pyautogui name for a key, or undefined when no keyboard has it. Single
 * characters stay as written ('A' and 'a' differ); names are case-insensitive.
 */
export function normalizeKeyName(name: string): string | undefined {
  if (Object.hasOwn(ALIASES, name)) return ALIASES[name];
  // One character, which may be two UTF-16 units (checking the length first: names come from replies).
  if (name.length <= 2 && [...name].length === 1) return name;
  const lower = name.toLowerCase();
  if (Object.hasOwn(ALIASES, lower)) return ALIASES[lower];
  return KNOWN.has(lower) ? lower : undefined;
}

export const KEY_NAMES: readonly string[] = NAMED_KEYS;
