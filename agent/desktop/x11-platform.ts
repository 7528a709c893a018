import type { DisplayInfo, Screenshot } from '../operator.ts';
import { captureLibnut } from './libnut-capture.ts';
import { NutPointer, type NutInput } from './nut.ts';
import type { TypingStrategy } from './nut-keyboard.ts';
import { DesktopUnavailableError, type DesktopPlatform } from './platform.ts';
import { DesktopToolError, runTool } from './tools.ts';
import { captureX11 } from './x11-capture.ts';
import { X11Keyboard } from './x11-keyboard.ts';
import { parseListMonitors } from './xrandr.ts';

export interface X11PlatformOptions {
  /** Environment for the X tools; DISPLAY must match the one nut-js was loaded with. */
  readonly env: NodeJS.ProcessEnv;
  readonly nut: () => Promise<NutInput>;
  readonly typing?: TypingStrategy;
  readonly charDelayMs?: number;
  /** How to capture: 'libnut' (default; XGetImage + sharp) or 'import' (ImageMagick). */
  readonly capture?: 'libnut' | 'import';
}

const WAYLAND =
  'this is a Wayland session: Kestrel sees and controls X11 only, so native Wayland windows would be invisible to it; ' +
  'log in with an X11 session ("GNOME on Xorg" or "Ubuntu on Xorg" on the login screen), or set KESTREL_XWAYLAND=1 to drive XWayland apps only';

/** Says why this environment has no X11 desktop to drive, or undefined when it has one. */
export function x11Problem(env: NodeJS.ProcessEnv): DesktopUnavailableError | undefined {
  const wayland = Boolean(env.WAYLAND_DISPLAY) || env.XDG_SESSION_TYPE === 'wayland';
  if (!env.DISPLAY) {
    return wayland
      ? new DesktopUnavailableError(`${WAYLAND} (DISPLAY is not set)`, 'wayland')
      : new DesktopUnavailableError('there is no display (DISPLAY is not set); run Kestrel inside an X11 session, or under Xvfb', 'no-display');
  }
  return undefined;
}

/**
 * X11: xrandr lists the monitors (root-window pixels, scale 1), libnut (or ImageMagick) captures,
 * nut-js moves and clicks, xdotool types and presses keys (libnut types shifted symbols wrongly
 * here), xclip pastes what xdotool cannot type.
 */
export class X11Platform extends NutPointer implements DesktopPlatform {
  readonly kind = 'x11';
  readonly keyboard: X11Keyboard;

  constructor(private readonly options: X11PlatformOptions) {
    super(options.nut);
    const problem = x11Problem(options.env);
    if (problem) throw problem;
    this.keyboard = new X11Keyboard({ env: options.env, ...(options.typing ? { typing: options.typing } : {}), ...(options.charDelayMs !== undefined ? { charDelayMs: options.charDelayMs } : {}) });
  }

  async displays(): Promise<DisplayInfo[]> {
    const { env } = this.options;
    let text: string;
    try {
      text = (await runTool('xrandr', ['--listmonitors'], { env, timeoutMs: 10_000 })).stdout.toString();
    } catch (err) {
      if (err instanceof DesktopToolError && /not installed/.test(err.message)) throw err;
      throw new DesktopUnavailableError(`cannot read the monitors of display ${env.DISPLAY} (${(err as Error).message}); is the X server running?`);
    }
    const displays = parseListMonitors(text);
    if (displays.length === 0) throw new DesktopUnavailableError(`xrandr listed no monitors on ${env.DISPLAY}`, 'probe');
    // XWayland names its outputs XWAYLAND0, XWAYLAND1, …: this "X server" shows only X11 apps.
    if (displays.some((d) => /^XWAYLAND\d/.test(d.name)) && env.KESTREL_XWAYLAND !== '1') throw new DesktopUnavailableError(WAYLAND, 'wayland');
    return displays;
  }

  async capture(display: DisplayInfo, signal?: AbortSignal): Promise<Screenshot> {
    if (this.options.capture === 'import') return captureX11(display, this.options.env, signal);
    return captureLibnut(await this.options.nut(), display);
  }
}
