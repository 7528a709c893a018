import type { DesktopAction } from './actions.ts';

/** A rectangle in the desktop's logical coordinate space. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface DisplayInfo {
  readonly id: string;
  readonly name: string;
  /**
   * Position and size in the desktop coordinates the pointer takes; x/y may be negative (left of
   * or above the primary). Points on macOS, root-window pixels on X11, physical pixels on Windows
   * (per-monitor DPI aware: the one space in which mixed-DPI monitors never overlap).
   */
  readonly bounds: Rect;
  /** Physical pixels per desktop unit (2 on a Retina display; 1 on X11 and Windows). */
  readonly scaleFactor: number;
  readonly primary: boolean;
  /** Pixel size of a full capture of this display (bounds × scaleFactor, rounded), when known. */
  readonly pixelSize?: { readonly width: number; readonly height: number };
  /** The scale the OS draws this display's UI at (Windows 150% → 1.5), when it differs from scaleFactor's meaning. */
  readonly uiScale?: number;
}

export interface Screenshot {
  /** PNG bytes as captured, at the display's physical resolution. */
  readonly png: Uint8Array;
  /** Pixel size of the PNG. */
  readonly width: number;
  readonly height: number;
  /** The display the image shows; maps image pixels back to desktop coordinates. */
  readonly display: DisplayInfo;
  readonly capturedAt: number;
}

/**
 * Where actions happen. The desktop operator drives the real mouse and keyboard; tests pass a
 * recording fake. Actions arrive already mapped to desktop coordinates.
 */
export interface Operator {
  displays(): Promise<readonly DisplayInfo[]>;
  screenshot(signal?: AbortSignal): Promise<Screenshot>;
  execute(action: DesktopAction, signal?: AbortSignal): Promise<void>;
  /**
   * Optional: says why an action cannot be done here (a key the keyboard layout lacks), before
   * anything of the step runs, so the loop can ask the model for another way. Undefined = fine.
   */
  refusal?(action: DesktopAction): Promise<string | undefined>;
}

/** Every member of Operator, optional ones included: adding one to Operator is a type error below until it is forwarded. */
type AllMembers = { [K in keyof Required<Operator>]: Operator[K] };

/**
 * An operator that does what `inner` does, except for the members in `overrides`. Every member of
 * `inner` is forwarded, the optional ones (refusal) too, so a wrapper never hides from the loop
 * what the real operator can say. Every operator wrapper is built on this.
 */
export function forwardOperator(inner: Operator, overrides: Partial<Operator> = {}): Operator {
  const forwarded: AllMembers = {
    displays: () => inner.displays(),
    screenshot: (signal) => inner.screenshot(signal),
    execute: (action, signal) => inner.execute(action, signal),
    refusal: inner.refusal && ((action) => inner.refusal!(action)),
  };
  const operator: Record<string, unknown> = { ...forwarded, ...overrides };
  // A member the inner operator lacks stays absent, not present and undefined.
  for (const key of Object.keys(operator)) if (operator[key] === undefined) delete operator[key];
  return operator as unknown as Operator;
}
