import type { DesktopAction, MouseButton, ScrollDirection } from '../actions.ts';
import type { DisplayInfo, Screenshot } from '../operator.ts';

export type DesktopKind = 'x11' | 'windows' | 'macos';

/** Why Kestrel cannot see or control this desktop (now), in one line that says what to do. */
export class DesktopUnavailableError extends Error {
  override readonly name = 'DesktopUnavailableError';
  constructor(
    message: string,
    /** What stands in the way, for callers that react differently (a permission vs no display). */
    readonly code: 'no-display' | 'wayland' | 'unsupported' | 'permission' | 'uipi' | 'secure-desktop' | 'confined' | 'probe' = 'no-display',
  ) {
    super(message);
  }
}

/** A key the keyboard (layout) has no key for, or no key at all; the message says what to do instead. */
export class KeyNotAvailableError extends Error {
  override readonly name = 'KeyNotAvailableError';
}

/** The message of a KeyNotAvailableError the key check throws, or undefined when every key maps. */
export async function keyRefusal(keys: readonly string[], check: (keys: readonly string[]) => unknown): Promise<string | undefined> {
  if (keys.length === 0) return undefined;
  try {
    await check(keys);
    return undefined;
  } catch (err) {
    if (err instanceof KeyNotAvailableError) return err.message;
    throw err;
  }
}

/** Keys and text, as each platform sends them. */
export interface DesktopKeyboard {
  type(text: string, signal?: AbortSignal): Promise<void>;
  press(key: string, presses: number, signal?: AbortSignal): Promise<void>;
  hotkey(keys: readonly string[], signal?: AbortSignal): Promise<void>;
  down(key: string, signal?: AbortSignal): Promise<void>;
  up(key: string, signal?: AbortSignal): Promise<void>;
  /** Why a key action cannot be done here (a key the layout lacks), or undefined. */
  refusal(action: DesktopAction): Promise<string | undefined>;
}

/**
 * Everything that differs between X11, Windows and macOS, behind one seam. The operator
 * (desktop-operator.ts) is the same on all three; points arrive in the desktop coordinates of
 * DisplayInfo.bounds.
 */
export interface DesktopPlatform {
  readonly kind: DesktopKind;
  displays(): Promise<DisplayInfo[]>;
  /** One display at its physical resolution. */
  capture(display: DisplayInfo, signal?: AbortSignal): Promise<Screenshot>;
  /** Puts the pointer exactly on a desktop point (whole units). */
  moveTo(x: number, y: number): Promise<void>;
  /** Where the pointer is, in desktop coordinates. */
  position(): Promise<{ x: number; y: number }>;
  press(button: MouseButton): Promise<void>;
  release(button: MouseButton): Promise<void>;
  /** `count` clicks that the OS reads as one single, double or triple click. */
  click(button: MouseButton, count: 1 | 2 | 3): Promise<void>;
  /** `clicks` wheel clicks (pyautogui's unit). */
  scroll(direction: ScrollDirection, clicks: number): Promise<void>;
  readonly keyboard: DesktopKeyboard;
  /**
   * Why this action would not reach its target right now (Windows: an elevated window, the
   * secure desktop; macOS: a missing permission), checked just before it runs. Undefined = go.
   */
  blocked?(action: DesktopAction): Promise<DesktopUnavailableError | undefined>;
  /** What would stop a run before it starts (a missing permission), checked before any model is loaded. */
  preflight?(): Promise<DesktopUnavailableError | undefined>;
}

/**
 * Whether Kestrel's own overlay must be hidden for the moment of each capture. Content
 * protection keeps a window out of captures only on Windows 10 2004 (build 19041) and later
 * (WDA_EXCLUDEFROMCAPTURE; before that the window shows as a black box) and not at all on
 * X11; on macOS 15 ScreenCaptureKit ignores it. So only new Windows relies on it.
 */
export function overlayHiddenDuringCapture(platform: NodeJS.Platform, osRelease: string): boolean {
  if (platform !== 'win32') return true;
  const build = Number(/^\d+\.\d+\.(\d+)/.exec(osRelease)?.[1] ?? 0);
  return build < 19041;
}
