import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesktopAction, DesktopPoint, ScrollDirection } from '../actions.ts';
import type { DisplayInfo, Screenshot } from '../operator.ts';
import { NutPointer, type NutInput } from './nut.ts';
import { NutKeyboard, type TypingStrategy } from './nut-keyboard.ts';
import { DesktopUnavailableError, type DesktopPlatform } from './platform.ts';
import { pngSize } from './png-size.ts';
import { parseWindowsMonitors } from './windows-displays.ts';
import { WindowsHelperError, type WindowsHelperChannel } from './windows-helper.ts';

export interface WindowsPlatformOptions {
  /** The per-monitor-DPI-aware helper (windows-helper.ts); a fake in tests. */
  readonly helper: WindowsHelperChannel;
  readonly nut: () => Promise<NutInput>;
  readonly typing?: TypingStrategy;
  /** Where captures are written for a moment (default: the OS temp folder). */
  readonly tempDir?: string;
}

/** What the helper says about the window an action would reach. */
export interface WindowTarget {
  readonly secureDesktop: boolean;
  readonly pid: number;
  readonly process: string;
  readonly title: string;
  /** 1 elevated, 0 not, -1 its token cannot be read (it has more rights than Kestrel). */
  readonly elevation: -1 | 0 | 1;
  readonly selfElevated: boolean;
}

export const SECURE_DESKTOP_MESSAGE =
  'Windows is showing its secure desktop (a UAC prompt, the sign-in screen or Ctrl+Alt+Del), which no program can see or control; deal with it yourself, then run the task again';

/** The one-line reason an action cannot reach this window, or undefined when it can. */
export function targetProblem(target: WindowTarget): string | undefined {
  if (target.secureDesktop) return SECURE_DESKTOP_MESSAGE;
  if (target.selfElevated || target.elevation === 0 || target.pid === 0) return undefined;
  const what = [target.title && `“${target.title}”`, target.process && `${target.process}.exe`].filter(Boolean).join(', ') || `process ${target.pid}`;
  return `the window ${what} runs as administrator and Windows blocks input to it from Kestrel, which does not (UIPI); run Kestrel as administrator to control it, or do that part yourself`;
}

/** The points an action aims at (a drag has two). */
function pointsOf(action: DesktopAction): DesktopPoint[] {
  switch (action.kind) {
    case 'click':
    case 'mouse_down':
    case 'mouse_up':
    case 'scroll':
      return action.at ? [action.at] : [];
    case 'move':
      return [action.to];
    case 'drag':
      return action.from ? [action.from, action.to] : [action.to];
    default:
      return [];
  }
}

const KEYBOARD_ACTIONS = new Set<DesktopAction['kind']>(['type', 'press', 'hotkey', 'key_down', 'key_up']);

/**
 * Windows: the helper (per-monitor DPI aware, so coordinates are physical pixels) enumerates
 * monitors, captures, places the pointer exactly, scrolls in WHEEL_DELTA units, types Unicode
 * with KEYEVENTF_UNICODE and tells whose window an action would reach; nut-js presses buttons
 * and keys. libnut's own pointer moves are relative to the primary monitor and its typing sends
 * ANSI key codes, so neither is used for those.
 */
export class WindowsPlatform extends NutPointer implements DesktopPlatform {
  readonly kind = 'windows';
  readonly keyboard: NutKeyboard;

  constructor(private readonly options: WindowsPlatformOptions) {
    super(options.nut);
    this.keyboard = new NutKeyboard({
      platform: 'windows',
      nut: options.nut,
      typeExact: async (text) => void (await options.helper.request('type', [Buffer.from(text, 'utf8').toString('base64')])),
      ...(options.typing ? { typing: options.typing } : {}),
    });
  }

  private async ask(op: string, args: readonly (string | number)[] = []): Promise<unknown> {
    try {
      return await this.options.helper.request(op, args);
    } catch (err) {
      if (err instanceof WindowsHelperError && err.code === 'secure-desktop') throw new DesktopUnavailableError(SECURE_DESKTOP_MESSAGE, 'secure-desktop');
      throw err;
    }
  }

  async displays(): Promise<DisplayInfo[]> {
    return parseWindowsMonitors(await this.ask('displays'));
  }

  async capture(display: DisplayInfo): Promise<Screenshot> {
    const { x, y, width, height } = display.bounds;
    const file = join(this.options.tempDir ?? tmpdir(), `kestrel-capture-${randomUUID()}.png`);
    try {
      await this.ask('capture', [x, y, width, height, file]);
      const png = await readFile(file);
      const size = pngSize(png);
      return { png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), ...size, display, capturedAt: Date.now() };
    } finally {
      await rm(file, { force: true });
    }
  }

  override async moveTo(x: number, y: number): Promise<void> {
    const [px, py] = [Math.round(x), Math.round(y)];
    const at = (await this.ask('move', [px, py])) as { x: number; y: number };
    if (at.x !== px || at.y !== py) {
      throw new DesktopUnavailableError(`the pointer stopped at (${at.x}, ${at.y}) instead of (${px}, ${py}); a program is confining it (a game, a remote-desktop client): release it and run again`, 'confined');
    }
  }

  override async position(): Promise<{ x: number; y: number }> {
    return (await this.ask('position')) as { x: number; y: number };
  }

  override async scroll(direction: ScrollDirection, clicks: number): Promise<void> {
    await this.ask('scroll', [direction, clicks]);
  }

  async blocked(action: DesktopAction): Promise<DesktopUnavailableError | undefined> {
    const points = pointsOf(action);
    const asks = points.length > 0 ? points.map((p) => [Math.round(p.x), Math.round(p.y)]) : KEYBOARD_ACTIONS.has(action.kind) ? [[]] : [];
    for (const args of asks) {
      const target = (await this.ask('target', args)) as WindowTarget;
      const problem = targetProblem(target);
      if (problem) return new DesktopUnavailableError(problem, target.secureDesktop ? 'secure-desktop' : 'uipi');
    }
    return undefined;
  }
}
