import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from './processes.ts';
import type { VirtualDisplay, WindowGeometry } from './xvfb.ts';

const run = promisify(execFile);

/** One pointer event as the X server delivered it, in root-window coordinates. */
export interface PointerEvent {
  readonly type: 'ButtonPress' | 'ButtonRelease' | 'MotionNotify';
  readonly x: number;
  readonly y: number;
  /** The button (1 left, 2 middle, 3 right, 4/5 wheel up/down, 6/7 wheel left/right); 0 for motion. */
  readonly button: number;
  /** The modifier and button mask held during the event (0x100 = button 1 down). */
  readonly state: number;
}

/** An `xev` window: every pointer event the X server delivers to it, exactly where it landed. */
export interface PointerLog {
  readonly window: WindowGeometry;
  events(): PointerEvent[];
  clear(): void;
  /** Waits until the log holds `count` events of a type. */
  waitFor(type: PointerEvent['type'], count: number, timeoutMs?: number): Promise<PointerEvent[]>;
}

function parseEvents(text: string): PointerEvent[] {
  const events: PointerEvent[] = [];
  const block = /^(ButtonPress|ButtonRelease|MotionNotify) event[^\n]*\n[^\n]*root:\((-?\d+),(-?\d+)\),\s*\n\s*state 0x([0-9a-f]+),\s*(?:button (\d+)|is_hint)/gm;
  for (const m of text.matchAll(block)) {
    events.push({ type: m[1] as PointerEvent['type'], x: Number(m[2]), y: Number(m[3]), state: Number.parseInt(m[4]!, 16), button: Number(m[5] ?? 0) });
  }
  return events;
}

/** Starts `xev` at a geometry such as "400x300+1200+200" and logs the pointer events it receives. */
export async function startPointerLog(screen: Pick<VirtualDisplay, 'launch' | 'waitForWindow'>, title: string, geometry: string): Promise<PointerLog> {
  const child = screen.launch('xev', ['-name', title, '-geometry', geometry, '-event', 'mouse', '-event', 'button'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const window = await screen.waitForWindow(title);
  const pointerOnly = () => parseEvents(text);
  return {
    window,
    events: pointerOnly,
    clear: () => void (text = ''),
    waitFor: (type, count, timeoutMs = 10_000) =>
      waitFor(`${count} ${type} events in xev (it logged ${JSON.stringify(pointerOnly())})`, () => {
        const matching = pointerOnly().filter((e) => e.type === type);
        return matching.length >= count ? pointerOnly() : undefined;
      }, timeoutMs),
  };
}

/** A GTK entry (zenity --entry) moved to a known place; `result` is what it printed when Enter was pressed. */
export interface GtkEntry {
  readonly window: WindowGeometry;
  readonly result: Promise<string>;
}

export async function startGtkEntry(screen: Pick<VirtualDisplay, 'launch' | 'waitForWindow' | 'env'>, title: string, at: { x: number; y: number }): Promise<GtkEntry> {
  // NO_AT_BRIDGE: no accessibility bus to look for on a bare Xvfb.
  const child = screen.launch('zenity', ['--entry', `--title=${title}`, '--text=Type here', '--width=360'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { NO_AT_BRIDGE: '1', LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', GDK_BACKEND: 'x11' },
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const result = new Promise<string>((done) => child.once('exit', () => done(out)));
  await screen.waitForWindow(title);
  // No window manager places it: move it where the test wants it.
  await run('xdotool', ['search', '--name', `^${title}$`, 'windowmove', String(at.x), String(at.y)], { env: screen.env });
  const window = await waitFor(`the GTK window to move to ${at.x},${at.y}`, async () => {
    const g = await screen.waitForWindow(title);
    return g.x === at.x && g.y === at.y ? g : undefined;
  });
  return { window, result };
}
