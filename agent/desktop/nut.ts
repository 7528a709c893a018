import type { MouseButton, ScrollDirection } from '../actions.ts';

/** A key as nut-js names it (`Key.LeftControl` → 'LeftControl'), so fakes need no native module. */
export type NutKeyName = string;

/** Raw pixels of a screen region as libnut returns them: BGR(A) rows, possibly padded. */
export interface GrabbedImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly byteWidth: number;
}

/**
 * The nut-js calls Kestrel makes, behind one seam: the real library on a desktop, a recording
 * fake in the adapters' unit tests (Windows and macOS never run here).
 */
export interface NutInput {
  setPosition(x: number, y: number): Promise<void>;
  getPosition(): Promise<{ x: number; y: number }>;
  pressButton(button: MouseButton): Promise<void>;
  releaseButton(button: MouseButton): Promise<void>;
  click(button: MouseButton): Promise<void>;
  /** One OS double click (macOS needs its click count set; two clicks are two single clicks there). */
  doubleClick(button: MouseButton): Promise<void>;
  /** `amount` in the provider's own units (wheel notches on X11 and Windows' 1/120 units, pixels on macOS). */
  scroll(direction: ScrollDirection, amount: number): Promise<void>;
  pressKeys(keys: readonly NutKeyName[]): Promise<void>;
  releaseKeys(keys: readonly NutKeyName[]): Promise<void>;
  /** Types text one code point at a time (libnut's typeString per character). */
  type(text: string): Promise<void>;
  readClipboard(): Promise<string>;
  writeClipboard(text: string): Promise<void>;
  grabRegion(x: number, y: number, width: number, height: number): Promise<GrabbedImage>;
}

type Nut = typeof import('@nut-tree-fork/nut-js');

/** The nut-js library as a NutInput. Loading it opens the display (X11: the DISPLAY of this process). */
export async function loadNut(keyDelayMs = 0): Promise<NutInput> {
  const nut: Nut = await import('@nut-tree-fork/nut-js');
  // nut-js sleeps autoDelayMs before every call and, for keys, libnut sleeps its own keyboard delay
  // (300 ms by default) after every key event; Kestrel paces actions itself.
  nut.mouse.config.autoDelayMs = 0;
  nut.keyboard.config.autoDelayMs = keyDelayMs;
  nut.providerRegistry.getKeyboard().setKeyboardDelay(0);
  const button = (b: MouseButton) => (b === 'left' ? nut.Button.LEFT : b === 'right' ? nut.Button.RIGHT : nut.Button.MIDDLE);
  const key = (name: NutKeyName) => {
    const value = (nut.Key as unknown as Record<string, number>)[name];
    if (value === undefined) throw new Error(`nut-js has no key '${name}'`);
    return value as unknown as (typeof nut.Key)[keyof typeof nut.Key];
  };
  return {
    async setPosition(x, y) {
      await nut.mouse.setPosition(new nut.Point(x, y));
    },
    async getPosition() {
      const p = await nut.mouse.getPosition();
      return { x: p.x, y: p.y };
    },
    async pressButton(b) {
      await nut.mouse.pressButton(button(b));
    },
    async releaseButton(b) {
      await nut.mouse.releaseButton(button(b));
    },
    async click(b) {
      await nut.mouse.click(button(b));
    },
    async doubleClick(b) {
      await nut.mouse.doubleClick(button(b));
    },
    async scroll(direction, amount) {
      if (direction === 'up') await nut.mouse.scrollUp(amount);
      else if (direction === 'down') await nut.mouse.scrollDown(amount);
      // nut-js 4.2's sideways scrolls go the other way from their names: on X11 scrollLeft
      // sends button 7 (right) and scrollRight button 6 (left), as xev shows
      // (test/desktop/nut-operator-input.test.ts); libnut gives every OS the same sign.
      else if (direction === 'left') await nut.mouse.scrollRight(amount);
      else await nut.mouse.scrollLeft(amount);
    },
    async pressKeys(keys) {
      await nut.keyboard.pressKey(...keys.map(key));
    },
    async releaseKeys(keys) {
      await nut.keyboard.releaseKey(...keys.map(key));
    },
    async type(text) {
      await nut.keyboard.type(text);
    },
    readClipboard: () => nut.clipboard.getContent(),
    writeClipboard: (text) => nut.clipboard.setContent(text),
    async grabRegion(x, y, width, height) {
      const image = await nut.screen.grabRegion(new nut.Region(x, y, width, height));
      return { data: image.data, width: image.width, height: image.height, channels: image.channels, byteWidth: image.byteWidth };
    },
  };
}

/**
 * The pointer through nut-js, as X11 uses it whole; the Windows and macOS adapters extend it and
 * replace what their OS needs done differently (exact placement, multi-clicks, wheel units).
 */
export class NutPointer {
  constructor(protected readonly nut: () => Promise<NutInput>) {}

  async moveTo(x: number, y: number): Promise<void> {
    await (await this.nut()).setPosition(x, y);
  }

  async position(): Promise<{ x: number; y: number }> {
    return (await this.nut()).getPosition();
  }

  async press(button: MouseButton): Promise<void> {
    await (await this.nut()).pressButton(button);
  }

  async release(button: MouseButton): Promise<void> {
    await (await this.nut()).releaseButton(button);
  }

  /** X11 and Windows count clicks that follow within the double-click time as one multi-click. */
  async click(button: MouseButton, count: 1 | 2 | 3): Promise<void> {
    const nut = await this.nut();
    for (let i = 0; i < count; i++) await nut.click(button);
  }

  /** One wheel click is one notch: on X11 one press of button 4/5 (6/7 sideways), as pyautogui sends. */
  async scroll(direction: ScrollDirection, clicks: number): Promise<void> {
    await (await this.nut()).scroll(direction, clicks);
  }
}
