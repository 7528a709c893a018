import type { DesktopAction, DesktopPoint } from '../actions.ts';
import { toPointerPoint } from '../coordinates.ts';
import type { DisplayInfo, Operator, Screenshot } from '../operator.ts';
import { sleep } from '../loop/timing.ts';
import { MacPlatform, terminalName, type MacPermissions } from './macos-platform.ts';
import { loadNut, type NutInput } from './nut.ts';
import type { TypingStrategy } from './nut-keyboard.ts';
import { DesktopUnavailableError, type DesktopPlatform } from './platform.ts';
import { runTool } from './tools.ts';
import { WindowsPlatform } from './windows-platform.ts';
import { HelperProcess } from './windows-helper.ts';
import { X11Platform } from './x11-platform.ts';
import { chooseDisplay } from './xrandr.ts';

export interface DesktopOperatorOptions {
  /** Which display to watch and act on: index, id or name (default: the primary). */
  readonly display?: string | number;
  /** Pointer speed in desktop units per second; 0 (default) jumps straight to the target. */
  readonly mouseSpeed?: number;
  /**
   * Pause after each action (default 0). Runs are paced by runAgent's actionDelayMs, the one
   * pacing; this is for callers that drive the operator directly and want a pause of their own.
   */
  readonly actionDelayMs?: number;
  readonly typing?: TypingStrategy;
  /** X11: delay between typed characters (default 5 ms). */
  readonly charDelayMs?: number;
  /** X11: how to capture, 'libnut' (default; XGetImage + sharp) or 'import' (ImageMagick). */
  readonly capture?: 'libnut' | 'import';
  /** Use these displays instead of asking the OS (the app passes Electron's `screen`; tests describe one X screen as two monitors). */
  readonly monitors?: readonly DisplayInfo[] | (() => readonly DisplayInfo[]);
  /** Environment for the X tools; DISPLAY must match the one this process loaded nut-js with. */
  readonly env?: NodeJS.ProcessEnv;
  /** Whose adapter to use (default: this process's platform). */
  readonly platform?: NodeJS.Platform;
  /** macOS, in the app: Electron's answers about the permissions, and the app's name. */
  readonly permissions?: MacPermissions;
  readonly appName?: string;
  /** A ready-made adapter (tests of the operator with a fake platform). */
  readonly adapter?: DesktopPlatform;
}

/** nut-js is one native library per process: load it once. */
let nutLoaded: Promise<NutInput> | undefined;
function sharedNut(): Promise<NutInput> {
  nutLoaded ??= loadNut();
  nutLoaded.catch(() => (nutLoaded = undefined));
  return nutLoaded;
}

/** The adapter for this OS; one line saying why when there is none. */
export function openPlatform(options: DesktopOperatorOptions = {}): DesktopPlatform {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const typing = options.typing ? { typing: options.typing } : {};
  switch (platform) {
    case 'linux':
      return new X11Platform({ env, nut: sharedNut, ...typing, ...(options.charDelayMs !== undefined ? { charDelayMs: options.charDelayMs } : {}), ...(options.capture ? { capture: options.capture } : {}) });
    case 'win32':
      return new WindowsPlatform({ helper: new HelperProcess(), nut: sharedNut, ...typing });
    case 'darwin':
      return new MacPlatform({
        tools: (command, args, toolOptions) => runTool(command, args, { env, ...toolOptions }),
        nut: sharedNut,
        appName: options.appName ?? terminalName(env),
        ...typing,
        ...(options.permissions ? { permissions: options.permissions } : {}),
      });
    default:
      throw new DesktopUnavailableError(`Kestrel controls Linux (X11), Windows and macOS desktops, not ${platform}`, 'unsupported');
  }
}

/** Steps of an animated pointer move: one per ~15 ms at `speed` units per second. */
export function glidePath(from: DesktopPoint, to: DesktopPoint, speed: number): DesktopPoint[] {
  const distance = Math.hypot(to.x - from.x, to.y - from.y);
  const steps = Math.max(1, Math.ceil(distance / speed / 0.015));
  return Array.from({ length: steps }, (_, i) => ({ x: from.x + ((to.x - from.x) * (i + 1)) / steps, y: from.y + ((to.y - from.y) * (i + 1)) / steps }));
}

/**
 * The one desktop operator for Linux (X11), Windows and macOS: the same actions, coordinates
 * and pacing everywhere, with what differs (display probes, capture, exact pointer placement,
 * text entry, permission checks) in the platform adapter. Coordinates arrive as desktop points
 * of the chosen display (see coordinates.ts).
 */
export class DesktopOperator implements Operator {
  readonly platform: DesktopPlatform;
  private chosen: Promise<DisplayInfo> | undefined;

  constructor(private readonly options: DesktopOperatorOptions = {}) {
    this.platform = options.adapter ?? openPlatform(options);
  }

  async displays(): Promise<readonly DisplayInfo[]> {
    const given = this.options.monitors;
    if (given) return typeof given === 'function' ? given() : given;
    return this.platform.displays();
  }

  /** The display this operator works on. */
  display(): Promise<DisplayInfo> {
    this.chosen ??= this.displays().then((all) => chooseDisplay(all, this.options.display));
    this.chosen.catch(() => (this.chosen = undefined));
    return this.chosen;
  }

  /** Checks, before a run loads its model, that this desktop can be seen and controlled: the display exists, permissions are there. */
  async preflight(): Promise<DisplayInfo> {
    const display = await this.display();
    const problem = await this.platform.preflight?.();
    if (problem) throw problem;
    return display;
  }

  async screenshot(signal?: AbortSignal): Promise<Screenshot> {
    return this.platform.capture(await this.display(), signal);
  }

  async refusal(action: DesktopAction): Promise<string | undefined> {
    return this.platform.keyboard.refusal(action);
  }

  async execute(action: DesktopAction, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    const blocked = await this.platform.blocked?.(action);
    if (blocked) throw blocked;
    await this.perform(action, signal);
    const pause = this.options.actionDelayMs ?? 0;
    if (pause > 0 && action.kind !== 'wait') await sleep(pause, signal).catch(() => undefined);
  }

  private async moveTo(point: DesktopPoint): Promise<void> {
    const target = toPointerPoint(point, await this.display());
    if (this.options.mouseSpeed) {
      for (const step of glidePath(await this.platform.position(), target, this.options.mouseSpeed).slice(0, -1)) {
        await this.platform.moveTo(Math.round(step.x), Math.round(step.y));
        await sleep(15);
      }
    }
    await this.platform.moveTo(target.x, target.y);
  }

  private async perform(action: DesktopAction, signal?: AbortSignal): Promise<void> {
    const { keyboard } = this.platform;
    switch (action.kind) {
      case 'click':
        if (action.at) await this.moveTo(action.at);
        return this.platform.click(action.button, action.count);
      case 'move':
        return this.moveTo(action.to);
      case 'drag': {
        if (action.from) await this.moveTo(action.from);
        const from = action.from ? toPointerPoint(action.from, await this.display()) : await this.platform.position();
        await this.platform.press(action.button);
        try {
          // Several intermediate points: many toolkits only start a drag after some motion.
          for (let i = 1; i <= 10; i++) {
            await this.platform.moveTo(Math.round(from.x + ((action.to.x - from.x) * i) / 10), Math.round(from.y + ((action.to.y - from.y) * i) / 10));
            await sleep(10);
          }
        } finally {
          await this.platform.release(action.button);
        }
        return;
      }
      case 'mouse_down':
      case 'mouse_up':
        if (action.at) await this.moveTo(action.at);
        return action.kind === 'mouse_down' ? this.platform.press(action.button) : this.platform.release(action.button);
      case 'scroll':
        if (action.at) await this.moveTo(action.at);
        return this.platform.scroll(action.direction, Math.max(1, Math.round(action.amount)));
      case 'type':
        return keyboard.type(action.text, signal);
      case 'press':
        return keyboard.press(action.key, action.presses, signal);
      case 'hotkey':
        return keyboard.hotkey(action.keys, signal);
      case 'key_down':
        return keyboard.down(action.key, signal);
      case 'key_up':
        return keyboard.up(action.key, signal);
      case 'wait':
        return sleep(action.seconds * 1000, signal);
      case 'finished':
      case 'fail':
      case 'call_user':
        return;
    }
  }
}
