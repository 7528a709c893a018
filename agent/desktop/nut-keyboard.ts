import type { DesktopAction } from '../actions.ts';
import { sleep } from '../loop/timing.ts';
import type { NutInput } from './nut.ts';
import { isTypedCharacter, nutKeyFor, type NutPlatform } from './nut-keys.ts';
import { keyRefusal, type DesktopKeyboard } from './platform.ts';

/**
 * How text reaches applications:
 * - 'keys': as key events carrying the characters themselves (exact Unicode on Windows and
 *   macOS; on X11 `xdotool type`, hence its old name 'xdotool', still accepted);
 * - 'clipboard': put the text on the clipboard, paste it, put the clipboard's text back;
 * - 'auto' (default): 'keys' where they are exact (Windows, macOS, ASCII on X11), else the clipboard.
 */
export type TypingStrategy = 'auto' | 'keys' | 'xdotool' | 'clipboard';

export interface NutKeyboardOptions {
  readonly platform: NutPlatform;
  readonly nut: () => Promise<NutInput>;
  /** Enters text exactly as given (no newlines or tabs in it). */
  readonly typeExact: (text: string) => Promise<void>;
  readonly typing?: TypingStrategy;
}

/** Characters per call to typeExact: small enough that a stop lands within a fraction of a second. */
const CHUNK = 64;

/**
 * Keys through nut-js (modifiers and named keys by their nut-js names), text through the
 * platform's exact path: newlines and tabs as Enter and Tab presses, as pyautogui.write does.
 */
export class NutKeyboard implements DesktopKeyboard {
  constructor(private readonly options: NutKeyboardOptions) {}

  private keysFor(keys: readonly string[]): string[] {
    return keys.map((key) => nutKeyFor(key, this.options.platform));
  }

  refusal(action: DesktopAction): Promise<string | undefined> {
    const keys = action.kind === 'hotkey' ? action.keys : action.kind === 'key_down' || action.kind === 'key_up' ? [action.key] : action.kind === 'press' && !isTypedCharacter(action.key) ? [action.key] : [];
    return keyRefusal(keys, (k) => this.keysFor(k));
  }

  async type(text: string, signal?: AbortSignal): Promise<void> {
    if (text === '') return;
    if (this.options.typing === 'clipboard') return this.paste(text, signal);
    for (const part of text.replace(/\r\n?/g, '\n').split(/([\n\t])/)) {
      if (signal?.aborted) return;
      if (part === '\n') await this.tap('Enter');
      else if (part === '\t') await this.tap('Tab');
      else {
        const chars = [...part];
        for (let i = 0; i < chars.length && !signal?.aborted; i += CHUNK) await this.options.typeExact(chars.slice(i, i + CHUNK).join(''));
      }
    }
  }

  /** The clipboard's text is put back afterwards; other content (an image) cannot be, and is not touched by 'auto'. */
  private async paste(text: string, signal?: AbortSignal): Promise<void> {
    const nut = await this.options.nut();
    const before = await nut.readClipboard().catch(() => undefined);
    await nut.writeClipboard(text);
    try {
      await this.hotkey([this.options.platform === 'macos' ? 'command' : 'ctrl', 'v'], signal);
      // The application reads the clipboard after the key press; give it time before restoring.
      await sleep(150);
    } finally {
      await nut.writeClipboard(before ?? '');
    }
  }

  private async tap(key: string): Promise<void> {
    const nut = await this.options.nut();
    await nut.pressKeys([key]);
    await nut.releaseKeys([key]);
  }

  async press(key: string, presses: number, signal?: AbortSignal): Promise<void> {
    if (isTypedCharacter(key)) return this.type(key.repeat(presses), signal);
    const [nutKey] = this.keysFor([key]);
    for (let i = 0; i < presses && !signal?.aborted; i++) await this.tap(nutKey!);
  }

  /** Each key down in order, then up in reverse, as a person chords them. */
  async hotkey(keys: readonly string[], signal?: AbortSignal): Promise<void> {
    const nutKeys = this.keysFor(keys);
    const nut = await this.options.nut();
    const down: string[] = [];
    try {
      for (const key of nutKeys) {
        if (signal?.aborted) break;
        await nut.pressKeys([key]);
        down.push(key);
      }
    } finally {
      for (const key of down.reverse()) await nut.releaseKeys([key]);
    }
  }

  async down(key: string): Promise<void> {
    const nut = await this.options.nut();
    await nut.pressKeys(this.keysFor([key]));
  }

  async up(key: string): Promise<void> {
    const nut = await this.options.nut();
    await nut.releaseKeys(this.keysFor([key]));
  }
}
