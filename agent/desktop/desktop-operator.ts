import type { DesktopAction, DesktopPoint, MouseButton } from '../actions.ts';
import type { DisplayInfo, Operator, Screenshot } from '../operator.ts';
import { sleep } from '../loop/timing.ts';
import { captureLibnut } from './libnut-capture.ts';
import { captureX11 } from './x11-capture.ts';
import { X11Keyboard, type TypingStrategy } from './x11-keyboard.ts';
import { chooseDisplay, parseListMonitors } from './xrandr.ts';
import { DesktopToolError, runTool } from './tools.ts';

export interface DesktopOperatorOptions {
  /** Which display to watch and act on: index, id or output name (default: the primary). */
  readonly display?: string | number;
  /** Pointer speed in pixels per second; 0 (default) jumps straight to the target. */
  readonly mouseSpeed?: number;
  /**
   * Pause after each action (default 0). Runs are paced by runAgent's actionDelayMs, the one
   * pacing; this is for callers that drive the operator directly and want a pause of their own.
   */
  readonly actionDelayMs?: number;
  readonly typing?: TypingStrategy;
  readonly charDelayMs?: number;
  /** How to capture: 'libnut' (default; XGetImage + sharp) or 'import' (ImageMagick). */
  readonly capture?: 'libnut' | 'import';
  /** Use these displays instead of asking xrandr (for setups xrandr describes wrongly). */
  readonly monitors?: readonly DisplayInfo[];
  /** Environment for the X tools; DISPLAY must match the one this process loaded nut-js with. */
  readonly env?: NodeJS.ProcessEnv;
}

type Nut = typeof import('@nut-tree-fork/nut-js');

export class DesktopUnavailableError extends Error {
  override readonly name = 'DesktopUnavailableError';
}

/**
 * Drives the real desktop: nut-js moves and clicks the pointer, xdotool types and presses keys
 * (X11), libnut (or ImageMagick) captures the chosen display. Coordinates arrive as desktop points of that
 * display (see coordinates.ts), which on X11 are the root window's pixels.
 */
export class DesktopOperator implements Operator {
  private readonly env: NodeJS.ProcessEnv;
  private readonly keyboard: X11Keyboard;
  private nut: Promise<Nut> | undefined;
  private chosen: Promise<DisplayInfo> | undefined;

  constructor(private readonly options: DesktopOperatorOptions = {}) {
    if (process.platform !== 'linux') {
      throw new DesktopUnavailableError(`desktop control on ${process.platform} is not built yet; Kestrel drives X11 desktops on Linux`);
    }
    this.env = options.env ?? process.env;
    if (!this.env.DISPLAY) {
      throw new DesktopUnavailableError(
        this.env.WAYLAND_DISPLAY ? 'this is a Wayland session without X11 (DISPLAY is not set); run Kestrel in an X11 session' : 'there is no display (DISPLAY is not set); run Kestrel inside an X11 session, or under Xvfb',
      );
    }
    this.keyboard = new X11Keyboard({ env: this.env, ...(options.typing ? { typing: options.typing } : {}), ...(options.charDelayMs !== undefined ? { charDelayMs: options.charDelayMs } : {}) });
  }

  private loadNut(): Promise<Nut> {
    this.nut ??= import('@nut-tree-fork/nut-js').then((nut) => {
      nut.mouse.config.autoDelayMs = 10;
      return nut;
    });
    return this.nut;
  }

  async displays(): Promise<readonly DisplayInfo[]> {
    if (this.options.monitors) return this.options.monitors;
    let text: string;
    try {
      text = (await runTool('xrandr', ['--listmonitors'], { env: this.env, timeoutMs: 10_000 })).stdout.toString();
    } catch (err) {
      if (err instanceof DesktopToolError && /not installed/.test(err.message)) throw err;
      throw new DesktopUnavailableError(`cannot read the monitors of display ${this.env.DISPLAY} (${(err as Error).message}); is the X server running?`);
    }
    const displays = parseListMonitors(text);
    if (displays.length === 0) throw new DesktopUnavailableError(`xrandr listed no monitors on ${this.env.DISPLAY}`);
    return displays;
  }

  /** The display this operator works on. */
  display(): Promise<DisplayInfo> {
    this.chosen ??= this.displays().then((all) => chooseDisplay(all, this.options.display));
    this.chosen.catch(() => (this.chosen = undefined));
    return this.chosen;
  }

  async screenshot(signal?: AbortSignal): Promise<Screenshot> {
    const display = await this.display();
    if (this.options.capture === 'import') return captureX11(display, this.env, signal);
    return captureLibnut(await this.loadNut(), display);
  }

  private async moveTo(point: DesktopPoint): Promise<void> {
    const nut = await this.loadNut();
    const target = new nut.Point(Math.round(point.x), Math.round(point.y));
    if (this.options.mouseSpeed) {
      // nut-js keeps one global config; set this operator's speed for its own moves.
      nut.mouse.config.mouseSpeed = this.options.mouseSpeed;
      await nut.mouse.move(nut.straightTo(target));
    } else {
      await nut.mouse.setPosition(target);
    }
  }

  private async button(which: MouseButton): Promise<Nut['Button'][keyof Nut['Button']]> {
    const { Button } = await this.loadNut();
    return which === 'left' ? Button.LEFT : which === 'right' ? Button.RIGHT : Button.MIDDLE;
  }

  async refusal(action: DesktopAction): Promise<string | undefined> {
    return this.keyboard.refusal(action);
  }

  async execute(action: DesktopAction, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    await this.perform(action, signal);
    const pause = this.options.actionDelayMs ?? 0;
    if (pause > 0 && action.kind !== 'wait') await sleep(pause, signal).catch(() => undefined);
  }

  private async perform(action: DesktopAction, signal?: AbortSignal): Promise<void> {
    switch (action.kind) {
      case 'click': {
        const nut = await this.loadNut();
        if (action.at) await this.moveTo(action.at);
        const button = await this.button(action.button);
        for (let i = 0; i < action.count; i++) await nut.mouse.click(button);
        return;
      }
      case 'move':
        return this.moveTo(action.to);
      case 'drag': {
        const nut = await this.loadNut();
        if (action.from) await this.moveTo(action.from);
        const button = await this.button(action.button);
        await nut.mouse.pressButton(button);
        try {
          const from = await nut.mouse.getPosition();
          // Several intermediate points: many toolkits only start a drag after some motion.
          for (let i = 1; i <= 10; i++) {
            await this.moveTo({ x: from.x + ((action.to.x - from.x) * i) / 10, y: from.y + ((action.to.y - from.y) * i) / 10 });
            await sleep(10);
          }
        } finally {
          await nut.mouse.releaseButton(button);
        }
        return;
      }
      case 'mouse_down':
      case 'mouse_up': {
        const nut = await this.loadNut();
        if (action.at) await this.moveTo(action.at);
        const button = await this.button(action.button);
        if (action.kind === 'mouse_down') await nut.mouse.pressButton(button);
        else await nut.mouse.releaseButton(button);
        return;
      }
      case 'scroll': {
        const nut = await this.loadNut();
        if (action.at) await this.moveTo(action.at);
        const amount = Math.max(1, Math.round(action.amount));
        if (action.direction === 'up') await nut.mouse.scrollUp(amount);
        else if (action.direction === 'down') await nut.mouse.scrollDown(amount);
        else if (action.direction === 'left') await nut.mouse.scrollLeft(amount);
        else await nut.mouse.scrollRight(amount);
        return;
      }
      case 'type':
        return this.keyboard.type(action.text, signal);
      case 'press':
        return this.keyboard.press(action.key, action.presses, signal);
      case 'hotkey':
        return this.keyboard.hotkey(action.keys, signal);
      case 'key_down':
        return this.keyboard.down(action.key, signal);
      case 'key_up':
        return this.keyboard.up(action.key, signal);
      case 'wait':
        return sleep(action.seconds * 1000, signal);
      case 'finished':
      case 'fail':
      case 'call_user':
        return;
    }
  }
}
