import type { DesktopAction } from '../actions.ts';
import { keyRefusal } from './platform.ts';
import { Keymap, KeyNotAvailableError, keysymFor } from './x11-keys.ts';
import { withPastedText } from './x11-clipboard.ts';
import type { TypingStrategy } from './nut-keyboard.ts';
import { runTool, type ToolOptions } from './tools.ts';

/*
 * How text reaches applications on X11 (TypingStrategy):
 * - 'keys' (or 'xdotool'): `xdotool type`, per character (libnut's typing sends shifted ASCII
 *   unshifted under X11 and mangles anything else, so it is not used for text at all);
 * - 'clipboard': put the text on the clipboard, press Shift+Insert (pastes in terminals, GTK,
 *   Qt and browsers), restore the clipboard;
 * - 'auto' (default): xdotool for ASCII, the clipboard for anything else (xdotool drops CJK).
 */

export interface X11KeyboardOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly typing?: TypingStrategy;
  /** Delay between typed characters (default 5 ms). */
  readonly charDelayMs?: number;
}

const ASCII_PRINTABLE = /^[\x20-\x7e\n\t]*$/;

/**
 * Characters per `xdotool type` call. The text travels as one argument, and Linux refuses a
 * single argument over 128 KiB (MAX_ARG_STRLEN) with E2BIG; 1,000 characters are at most 4 KB.
 */
export const XDOTOOL_CHUNK = 1000;

/** Keyboard input through xdotool, which (unlike libnut) never sends keycode 0. */
export class X11Keyboard {
  private keymap: Promise<Keymap> | undefined;

  constructor(private readonly options: X11KeyboardOptions) {}

  private tool(signal?: AbortSignal): ToolOptions {
    return { env: this.options.env, ...(signal ? { signal } : {}) };
  }

  private loadKeymap(): Promise<Keymap> {
    this.keymap ??= runTool('xmodmap', ['-pke'], this.tool()).then(({ stdout }) => new Keymap(stdout.toString()));
    return this.keymap;
  }

  /** Keysyms for keys to press, refusing any the layout has no key for (a remapped keycode is not a key press). */
  private async keysyms(keys: readonly string[]): Promise<string[]> {
    const keymap = await this.loadKeymap();
    return keys.map((key) => {
      const sym = keysymFor(key);
      if (!keymap.has(sym)) {
        const asText = [...key].length === 1 ? `; to enter the character, type it: pyautogui.write(${JSON.stringify(key)})` : '';
        throw new KeyNotAvailableError(`the keyboard layout has no key for '${key}' (keysym ${sym})${asText}`);
      }
      return sym;
    });
  }

  /** Why a key action cannot be done with this layout, or undefined when it can. */
  refusal(action: DesktopAction): Promise<string | undefined> {
    const keys = action.kind === 'press' || action.kind === 'key_down' || action.kind === 'key_up' ? [action.key] : action.kind === 'hotkey' ? action.keys : [];
    return keyRefusal(keys, (k) => this.keysyms(k));
  }

  async type(text: string, signal?: AbortSignal): Promise<void> {
    if (text === '') return;
    const strategy = this.options.typing ?? 'auto';
    if (strategy === 'clipboard' || (strategy === 'auto' && !ASCII_PRINTABLE.test(text))) {
      await withPastedText(text, this.tool(signal), () => this.hotkey(['shift', 'insert'], signal));
      return;
    }
    const delay = String(this.options.charDelayMs ?? 5);
    // Newlines go as Return key presses, one line at a time, so cooked terminals see each line.
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      const chars = [...line];
      for (let at = 0; at < chars.length; at += XDOTOOL_CHUNK) {
        await runTool('xdotool', ['type', '--clearmodifiers', '--delay', delay, '--', chars.slice(at, at + XDOTOOL_CHUNK).join('')], this.tool(signal));
      }
      if (i < lines.length - 1) await this.press('enter', 1, signal);
    }
  }

  async press(key: string, presses: number, signal?: AbortSignal): Promise<void> {
    const [sym] = await this.keysyms([key]);
    await runTool('xdotool', ['key', '--clearmodifiers', '--repeat', String(presses), '--delay', '30', sym!], this.tool(signal));
  }

  async hotkey(keys: readonly string[], signal?: AbortSignal): Promise<void> {
    const syms = await this.keysyms(keys);
    await runTool('xdotool', ['key', '--clearmodifiers', syms.join('+')], this.tool(signal));
  }

  async down(key: string, signal?: AbortSignal): Promise<void> {
    const [sym] = await this.keysyms([key]);
    await runTool('xdotool', ['keydown', sym!], this.tool(signal));
  }

  async up(key: string, signal?: AbortSignal): Promise<void> {
    const [sym] = await this.keysyms([key]);
    await runTool('xdotool', ['keyup', sym!], this.tool(signal));
  }
}
