import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesktopAction, MouseButton, ScrollDirection } from '../actions.ts';
import type { DisplayInfo, Screenshot } from '../operator.ts';
import { MACOS_PROBE_JXA, parseMacProbe, parseSystemProfiler, type MacProbe } from './macos-displays.ts';
import { NutPointer, type NutInput } from './nut.ts';
import { NutKeyboard, type TypingStrategy } from './nut-keyboard.ts';
import { DesktopUnavailableError, type DesktopPlatform } from './platform.ts';
import { pngSize } from './png-size.ts';
import type { ToolOptions, ToolRun } from './tools.ts';

/** Runs a macOS tool (osascript, screencapture, system_profiler); a recording fake in tests. */
export type MacTools = (command: string, args: readonly string[], options?: ToolOptions) => Promise<ToolRun>;

/** What the app knows better than a probe: Electron's systemPreferences. */
export interface MacPermissions {
  screenCapture(): boolean | null;
  accessibility(): boolean | null;
}

export interface MacPlatformOptions {
  readonly tools: MacTools;
  readonly nut: () => Promise<NutInput>;
  readonly typing?: TypingStrategy;
  /** The app the permissions belong to: 'Kestrel' in the app, the terminal for the CLI. */
  readonly appName?: string;
  readonly permissions?: MacPermissions;
  readonly tempDir?: string;
}

/** Posts `count` clicks carrying click states 1…count, which AppKit needs to see a double or triple click. */
export const MACOS_CLICK_JXA = `ObjC.import('CoreGraphics');
function run(argv) {
  const x = Number(argv[0]), y = Number(argv[1]), count = Number(argv[2]);
  const kinds = { left: [$.kCGEventLeftMouseDown, $.kCGEventLeftMouseUp, $.kCGMouseButtonLeft], right: [$.kCGEventRightMouseDown, $.kCGEventRightMouseUp, $.kCGMouseButtonRight], middle: [$.kCGEventOtherMouseDown, $.kCGEventOtherMouseUp, $.kCGMouseButtonCenter] }[argv[3]];
  const at = $.CGPointMake(x, y);
  for (let n = 1; n <= count; n++) {
    for (const type of [kinds[0], kinds[1]]) {
      const event = $.CGEventCreateMouseEvent(null, type, at, kinds[2]);
      $.CGEventSetIntegerValueField(event, $.kCGMouseEventClickState, n);
      $.CGEventPost($.kCGHIDEventTap, event);
    }
  }
}`;

/** The terminal a CLI run was started from, which is what macOS asks permission for. */
export function terminalName(env: NodeJS.ProcessEnv): string {
  const known: Record<string, string> = { Apple_Terminal: 'Terminal', 'iTerm.app': 'iTerm', vscode: 'Visual Studio Code', WezTerm: 'WezTerm', ghostty: 'Ghostty', WarpTerminal: 'Warp' };
  const program = env.TERM_PROGRAM;
  return program ? (known[program] ?? program) : 'the app you started Kestrel from';
}

/** One line naming the missing permission, its System Settings pane and what to do. */
export function permissionMessage(which: 'screen' | 'accessibility', appName: string): string {
  const [label, anchor, needs] =
    which === 'screen' ? ['Screen Recording', 'Privacy_ScreenCapture', 'see the screen'] : ['Accessibility', 'Privacy_Accessibility', 'move the pointer and type'];
  return (
    `macOS has not given ${appName} ${label} permission, which Kestrel needs to ${needs}: open System Settings → Privacy & Security → ${label} ` +
    `(open "x-apple.systempreferences:com.apple.preference.security?${anchor}"), turn it on for ${appName}, then quit and reopen ${appName}`
  );
}

/** Scroll distance of one wheel click: nut-js scrolls macOS in pixels; 3 lines of 10 px, as on the other systems. */
export const MACOS_PIXELS_PER_CLICK = 30;

/**
 * macOS: the JXA probe lists the screens in Quartz's global coordinates (points) and reads the
 * two permissions; `screencapture -R` captures a display at its backing resolution (2× on
 * Retina); nut-js (CGEvent) moves, clicks, scrolls and types exact Unicode.
 */
export class MacPlatform extends NutPointer implements DesktopPlatform {
  readonly kind = 'macos';
  readonly keyboard: NutKeyboard;
  private probed: Promise<MacProbe> | undefined;

  constructor(private readonly options: MacPlatformOptions) {
    super(options.nut);
    this.keyboard = new NutKeyboard({ platform: 'macos', nut: options.nut, typeExact: async (text) => (await options.nut()).type(text), ...(options.typing ? { typing: options.typing } : {}) });
  }

  private get appName(): string {
    return this.options.appName ?? 'the app you started Kestrel from';
  }

  /** The probe, run once and again after a refusal (the person may have granted it since). */
  private probe(): Promise<MacProbe> {
    this.probed ??= this.runProbe();
    this.probed.then(
      (p) => (p.screenCapture === false || p.accessibility === false ? (this.probed = undefined) : undefined),
      () => (this.probed = undefined),
    );
    return this.probed;
  }

  private async runProbe(): Promise<MacProbe> {
    try {
      const { stdout } = await this.options.tools('osascript', ['-l', 'JavaScript', '-e', MACOS_PROBE_JXA], { timeoutMs: 15_000 });
      return parseMacProbe(stdout.toString());
    } catch (err) {
      // No JXA (a locked-down machine): system_profiler knows the main display, not the permissions.
      try {
        const { stdout } = await this.options.tools('system_profiler', ['SPDisplaysDataType', '-json'], { timeoutMs: 30_000 });
        return { displays: parseSystemProfiler(stdout.toString()), screenCapture: null, accessibility: null };
      } catch {
        throw err;
      }
    }
  }

  private async permitted(which: 'screen' | 'accessibility'): Promise<string | undefined> {
    const fromApp = which === 'screen' ? this.options.permissions?.screenCapture() : this.options.permissions?.accessibility();
    const granted = fromApp ?? (which === 'screen' ? (await this.probe()).screenCapture : (await this.probe()).accessibility);
    return granted === false ? permissionMessage(which, this.appName) : undefined;
  }

  async displays(): Promise<DisplayInfo[]> {
    return (await this.probe()).displays;
  }

  async capture(display: DisplayInfo, signal?: AbortSignal): Promise<Screenshot> {
    const refused = await this.permitted('screen');
    if (refused) throw new DesktopUnavailableError(refused, 'permission');
    const { x, y, width, height } = display.bounds;
    const file = join(this.options.tempDir ?? tmpdir(), `kestrel-capture-${randomUUID()}.png`);
    try {
      // -x: no shutter sound; -R<x,y,w,h> in global points (attached, so a negative x is no option).
      await this.options.tools('screencapture', ['-x', '-t', 'png', `-R${x},${y},${width},${height}`, file], { timeoutMs: 15_000, ...(signal ? { signal } : {}) });
      const png = await readFile(file);
      return { png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), ...pngSize(png), display, capturedAt: Date.now() };
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Single and double clicks through nut-js; a triple click needs click state 3, which only a CGEvent of our own carries. */
  override async click(button: MouseButton, count: 1 | 2 | 3): Promise<void> {
    const nut = await this.options.nut();
    if (count === 1) return nut.click(button);
    if (count === 2) return nut.doubleClick(button);
    const at = await nut.getPosition();
    await this.options.tools('osascript', ['-l', 'JavaScript', '-e', MACOS_CLICK_JXA, String(at.x), String(at.y), String(count), button], { timeoutMs: 10_000 });
  }

  override async scroll(direction: ScrollDirection, clicks: number): Promise<void> {
    await (await this.options.nut()).scroll(direction, clicks * MACOS_PIXELS_PER_CLICK);
  }

  async preflight(): Promise<DesktopUnavailableError | undefined> {
    for (const which of ['screen', 'accessibility'] as const) {
      const refused = await this.permitted(which);
      if (refused) return new DesktopUnavailableError(refused, 'permission');
    }
    return undefined;
  }

  async blocked(action: DesktopAction): Promise<DesktopUnavailableError | undefined> {
    if (action.kind === 'wait' || action.kind === 'finished' || action.kind === 'fail' || action.kind === 'call_user') return undefined;
    const refused = await this.permitted('accessibility');
    return refused ? new DesktopUnavailableError(refused, 'permission') : undefined;
  }
}
