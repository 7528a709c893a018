import { NAMED_KEYS, PUNCTUATION } from './key-table.ts';
import { KeyNotAvailableError } from './platform.ts';

export type NutPlatform = 'windows' | 'macos';

/** The nut-js Key for a punctuation character that is a base key of its own, if it is one. */
function characterKey(c: string): string | undefined {
  return Object.hasOwn(PUNCTUATION, c) ? PUNCTUATION[c]!.nut : undefined;
}

/** The nut-js key for a pyautogui key name, or a KeyNotAvailableError saying why there is none. */
export function nutKeyFor(key: string, platform: NutPlatform): string {
  const named = NAMED_KEYS.get(key)?.[platform];
  if (named !== undefined) return named;
  const chars = [...key];
  if (chars.length === 1) {
    const c = chars[0]!;
    if (/^[a-z]$/i.test(c)) return c.toUpperCase();
    if (/^[0-9]$/.test(c)) return `Num${c}`;
    const base = characterKey(c);
    if (base !== undefined) return base;
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
  return chars.length === 1 && !/^[a-z0-9]$/.test(key) && characterKey(key) === undefined;
}
