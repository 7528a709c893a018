import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Action } from '../../shared/actions.ts';
import { mapAction } from '../../agent/coordinates.ts';
import type { DesktopOperator as DesktopOperatorType } from '../../agent/desktop.ts';
import type { DisplayInfo } from '../../agent/operator.ts';
import { LEFT, RIGHT, TWO_MONITORS } from '../harness/two-monitors.ts';
import { startGtkEntry, startPointerLog, type PointerLog } from '../harness/x-clients.ts';
import { startVirtualDisplay, type VirtualDisplay } from '../harness/xvfb.ts';

// The nut-js operator through its Linux adapter, checked against what the X server delivers:
// xev logs every pointer event at its root-window position, zenity's GTK entry prints what was
// typed into it. One Xvfb screen is described as two monitors (harness/two-monitors.ts), and
// the actions arrive as the model gives them: fractions of the right-hand
// monitor's screenshot, mapped by the same mapAction the agent loop uses.

let screen: VirtualDisplay;
let DesktopOperator: typeof DesktopOperatorType;
let log: PointerLog;

beforeAll(async () => {
  screen = await startVirtualDisplay(TWO_MONITORS);
  // nut-js (libnut) opens the display named by DISPLAY when it is first loaded.
  process.env.DISPLAY = screen.display;
  ({ DesktopOperator } = await import('../../agent/desktop.ts'));
  // xev's window covers x 1224..1824, y 100..600: all on the right-hand monitor.
  log = await startPointerLog(screen, 'kestrel-xev', '600x500+1200+100');
});

afterAll(async () => {
  await screen?.stop();
});

const operator = (display: DisplayInfo = RIGHT) => new DesktopOperator({ monitors: [LEFT, RIGHT], display: display.name, env: screen.env, actionDelayMs: 20 });
const act = (op: DesktopOperatorType, action: Action) => op.execute(mapAction(action, RIGHT));
const presses = () => log.events().filter((e) => e.type === 'ButtonPress').map(({ x, y, button }) => ({ x, y, button }));

describe('pointer actions on the right-hand monitor', () => {
  test('left, right, middle and double clicks land on the pixel the model chose', async () => {
    log.clear();
    const op = operator();
    // Pixel (409, 384) of the right monitor's 1024×768 screenshot, as fractions.
    const at = { x: 409.6 / 1024, y: 384 / 768 };
    await act(op, { kind: 'click', button: 'left', count: 1, at });
    await act(op, { kind: 'click', button: 'right', count: 1, at });
    await act(op, { kind: 'click', button: 'middle', count: 1, at: { x: 0.5, y: 0.25 } });
    await act(op, { kind: 'click', button: 'left', count: 2, at: { x: 0.75, y: 0.75 } });
    await log.waitFor('ButtonRelease', 5);
    expect(presses()).toEqual([
      { x: 1024 + 409, y: 384, button: 1 },
      { x: 1024 + 409, y: 384, button: 3 },
      { x: 1024 + 512, y: 192, button: 2 },
      { x: 1024 + 768, y: 576, button: 1 },
      { x: 1024 + 768, y: 576, button: 1 },
    ]);
  });

  test('scrolling sends one wheel button press per click, in each direction, where the model pointed', async () => {
    log.clear();
    const op = operator();
    const at = { x: 0.5, y: 0.5 };
    await act(op, { kind: 'scroll', direction: 'down', amount: 3, at });
    await act(op, { kind: 'scroll', direction: 'up', amount: 2, at });
    await act(op, { kind: 'scroll', direction: 'left', amount: 1, at });
    await act(op, { kind: 'scroll', direction: 'right', amount: 1, at });
    await log.waitFor('ButtonRelease', 7);
    expect(presses()).toEqual([5, 5, 5, 4, 4, 6, 7].map((button) => ({ x: 1536, y: 384, button })));
  });

  test('a drag presses at the start, moves with the button held, and releases at the end', async () => {
    log.clear();
    const op = operator();
    await act(op, { kind: 'drag', button: 'left', from: { x: 0.25, y: 0.25 }, to: { x: 0.5, y: 0.5 } });
    const events = await log.waitFor('ButtonRelease', 1);
    const press = events.find((e) => e.type === 'ButtonPress')!;
    const release = events.find((e) => e.type === 'ButtonRelease')!;
    expect([press.x, press.y, press.button]).toEqual([1024 + 256, 192, 1]);
    expect([release.x, release.y, release.button]).toEqual([1024 + 512, 384, 1]);
    const held = events.filter((e) => e.type === 'MotionNotify' && e.state & 0x100);
    expect(held.length).toBeGreaterThanOrEqual(3);
    expect(held.at(-1)).toMatchObject({ x: 1536, y: 384 });
  });
});

describe('typing into a GTK entry', () => {
  test('shifted ASCII through xdotool and Unicode through the clipboard arrive exactly', async () => {
    // On the left monitor, away from the xev window.
    const entry = await startGtkEntry(screen, 'kestrel-gtk', { x: 200, y: 200 });
    const op = operator(LEFT);
    const w = entry.window;
    // The entry sits in the middle of zenity's dialog, above its buttons.
    await op.execute({ kind: 'click', button: 'left', count: 1, at: { x: w.x + w.width / 2, y: w.y + w.height / 2 - 8 } });
    const text = 'a:b "c" <d> ~e | Grüße, 日本語 ✓ 😀';
    await op.execute({ kind: 'type', text: 'a:b "c" <d> ~e | ' });
    await op.execute({ kind: 'type', text: 'Grüße, 日本語 ✓ 😀' });
    await op.execute({ kind: 'press', key: 'enter', presses: 1 });
    expect(await entry.result).toBe(`${text}\n`);
  });
});
