import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DesktopOperator as DesktopOperatorType } from '../../agent/desktop.ts';
import { toDesktopPoint } from '../../agent/coordinates.ts';
import { LEFT, RIGHT, TWO_MONITORS } from '../harness/two-monitors.ts';
import { startVirtualDisplay, type VirtualDisplay } from '../harness/xvfb.ts';
import { startCatTerminal, type CatTerminal } from '../harness/xterm.ts';


let screen: VirtualDisplay;
let DesktopOperator: typeof DesktopOperatorType;
let term: CatTerminal;

beforeAll(async () => {
  screen = await startVirtualDisplay(TWO_MONITORS);
  // nut-js (libnut) opens the display named by DISPLAY when it is first loaded.
  process.env.DISPLAY = screen.display;
  ({ DesktopOperator } = await import('../../agent/desktop.ts'));
  term = await startCatTerminal(screen, { title: 'kestrel-right', geometry: '60x10+1300+200', background: '#ff0000' });
});

afterAll(async () => {
  term?.dispose();
  await screen?.stop();
});

const pointer = (): { x: number; y: number } => {
  const out = execFileSync('xdotool', ['getmouselocation', '--shell'], { env: screen.env }).toString();
  return { x: Number(/X=(\d+)/.exec(out)![1]), y: Number(/Y=(\d+)/.exec(out)![1]) };
};
const primarySelection = (): string => execFileSync('xclip', ['-selection', 'primary', '-o'], { env: screen.env }).toString();

function operator(options: ConstructorParameters<typeof DesktopOperator>[0] = {}): DesktopOperatorType {
  return new DesktopOperator({ monitors: [LEFT, RIGHT], display: 'right', env: screen.env, actionDelayMs: 20, ...options });
}

describe('DesktopOperator on the right-hand monitor', () => {
  test('captures only that monitor, at its size, with the window where it is', async () => {
    const shot = await operator().screenshot();
    expect([shot.width, shot.height]).toEqual([1024, 768]);
    expect(shot.display).toBe(RIGHT);
    const { data, info } = await sharp(shot.png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number): number[] => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    const w = term.window;
    // The red window sits 1300-1024 = 276 px into this monitor.
    expect(at(w.x - 1024 + Math.round(w.width * 0.75), w.y + Math.round(w.height * 0.75))).toEqual([255, 0, 0]);
    expect(at(w.x - 1024 - 20, w.y + 10)).toEqual([0, 0, 0]);
  });

  test('a normalised point on the screenshot lands on the same spot of the desktop', async () => {
    const op = operator();
    const to = toDesktopPoint({ x: 0.5, y: 0.25 }, RIGHT);
    await op.execute({ kind: 'move', to });
    expect(pointer()).toEqual({ x: 1024 + 512, y: 192 });
    await operator({ mouseSpeed: 3000 }).execute({ kind: 'move', to: { x: 1100, y: 300 } });
    expect(pointer()).toEqual({ x: 1100, y: 300 });
  });

  test('types ASCII with xdotool, Unicode through the clipboard, and presses keys', async () => {
    const op = operator();
    const w = term.window;
    await op.execute({ kind: 'click', button: 'left', count: 1, at: { x: w.x + w.width / 2, y: w.y + w.height / 2 } });
    const before = term.received().length;
    await op.execute({ kind: 'type', text: 'alpha beta: "x" <y> ~z' });
    await op.execute({ kind: 'press', key: 'space', presses: 3 });
    await op.execute({ kind: 'type', text: 'Ünïcödé 日本語' });
    await op.execute({ kind: 'press', key: 'enter', presses: 1 });
    await operator({ typing: 'clipboard' }).execute({ kind: 'type', text: 'pasted ascii\n' });
    const bytes = await term.waitForBytes((b) => b.subarray(before).toString().split('\n').length === 3, 'two lines');
    expect(bytes.subarray(before).toString('utf8')).toBe('alpha beta: "x" <y> ~z   Ünïcödé 日本語\npasted ascii\n');
  });

  // Reads the line the typing test above left in the xterm.
  test('double and triple clicks select a word and a line in the xterm', async () => {
    const op = operator();
    const w = term.window;
    // Default xterm font: 6×13 cells, 2 px inner border; the first line reads "alpha beta: …".
    const firstLine = { x: w.x + 2 + 2 * 6 + 3, y: w.y + 2 + 6 };
    await op.execute({ kind: 'click', button: 'left', count: 2, at: firstLine });
    expect(primarySelection()).toBe('alpha');
    await op.execute({ kind: 'click', button: 'left', count: 3, at: firstLine });
    expect(primarySelection()).toBe('alpha beta: "x" <y> ~z   Ünïcödé 日本語\n');
    await op.execute({ kind: 'drag', button: 'left', from: { x: w.x + 2 + 1, y: firstLine.y }, to: { x: w.x + 2 + 9 * 6 + 3, y: firstLine.y } });
    expect(primarySelection()).toBe('alpha beta');
  });

  test('keys the layout lacks are refused with a clear error, and the process survives', async () => {
    const op = operator();
    await expect(op.execute({ kind: 'press', key: 'é', presses: 1 })).rejects.toThrow(
      "the keyboard layout has no key for 'é' (keysym U00E9); to enter the character, type it: pyautogui.write(\"é\")",
    );
    await expect(op.execute({ kind: 'hotkey', keys: ['ctrl', '世'] })).rejects.toThrow(/no key for '世'/);
    await expect(op.execute({ kind: 'press', key: 'fn', presses: 1 })).rejects.toThrow("the 'fn' key cannot be pressed from software on X11");
    // The loop asks before acting, so a model can be told to type the character instead.
    expect(await op.refusal({ kind: 'press', key: 'é', presses: 1 })).toMatch(/^the keyboard layout has no key for 'é'/);
    expect(await op.refusal({ kind: 'hotkey', keys: ['ctrl', 'shift', 't'] })).toBeUndefined();
    expect(await op.refusal({ kind: 'type', text: 'é' })).toBeUndefined();
    await op.execute({ kind: 'move', to: { x: 1200, y: 100 } });
    expect(pointer()).toEqual({ x: 1200, y: 100 });
  });

  test('an abort stops long typing mid-text', async () => {
    const op = operator({ charDelayMs: 10 });
    const w = term.window;
    await op.execute({ kind: 'click', button: 'left', count: 1, at: { x: w.x + w.width / 2, y: w.y + w.height / 2 } });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    await op.execute({ kind: 'type', text: 'x'.repeat(2000) }, controller.signal).catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(1500);
    await op.execute({ kind: 'press', key: 'enter', presses: 1 });
    const line = (await term.waitForBytes((b) => b.toString().endsWith('x\n'), 'the cut-off line')).toString().split('\n').at(-2)!;
    expect(line.length).toBeGreaterThan(5);
    expect(line.length).toBeLessThan(2000);
  });

  test('without monitors given it asks xrandr, and names the display', async () => {
    const op = new DesktopOperator({ env: screen.env });
    expect(await op.displays()).toEqual([{ id: '0', name: 'screen', bounds: { x: 0, y: 0, width: 2048, height: 768 }, scaleFactor: 1, primary: true, pixelSize: { width: 2048, height: 768 } }]);
    expect(() => new DesktopOperator({ env: { PATH: process.env.PATH } })).toThrow('there is no display (DISPLAY is not set)');
  });
});
