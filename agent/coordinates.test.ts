import { describe, expect, test } from 'vitest';
import { desktopToImagePixel, displayAt, imagePixelToDesktop, mapAction, toDesktopPoint } from './coordinates.ts';
import type { DisplayInfo } from './operator.ts';

const display = (id: string, x: number, y: number, width: number, height: number, scaleFactor = 1, primary = false): DisplayInfo => ({
  id,
  name: id,
  bounds: { x, y, width, height },
  scaleFactor,
  primary,
});

describe('normalised → desktop', () => {
  test('a plain 1920×1080 primary display', () => {
    expect(toDesktopPoint({ x: 0.5, y: 0.5 }, display('a', 0, 0, 1920, 1080, 1, true))).toEqual({ x: 960, y: 540 });
  });

  test('HiDPI: a 2880×1800 screenshot of a 1440×900-point display at scale 2', () => {
    const retina = display('retina', 0, 0, 1440, 900, 2, true);
    expect(toDesktopPoint({ x: 0.25, y: 0.5 }, retina)).toEqual({ x: 360, y: 450 });
    // A pixel of the physical screenshot lands on the logical point that shows it.
    expect(imagePixelToDesktop(2000, 1000, { width: 2880, height: 1800, display: retina })).toEqual({ x: 1000, y: 500 });
    expect(desktopToImagePixel({ x: 1000, y: 500 }, { width: 2880, height: 1800, display: retina })).toEqual({ px: 2000, py: 1000 });
  });

  test('fractional scale 1.5: a 2560×1440 panel as 1706.67×960 points', () => {
    const panel = display('p', 0, 0, 2560 / 1.5, 960, 1.5, true);
    const p = imagePixelToDesktop(1280, 720, { width: 2560, height: 1440, display: panel });
    expect(p.x).toBeCloseTo(853.333, 3);
    expect(p.y).toBe(480);
  });

  test('a monitor left of the primary has a negative origin', () => {
    const left = display('left', -1920, 0, 1920, 1080);
    expect(toDesktopPoint({ x: 0, y: 0 }, left)).toEqual({ x: -1920, y: 0 });
    expect(toDesktopPoint({ x: 0.5, y: 0.5 }, left)).toEqual({ x: -960, y: 540 });
    const above = display('above', 200, -1440, 2560, 1440);
    expect(toDesktopPoint({ x: 0.1, y: 0.9 }, above)).toEqual({ x: 456, y: -144 });
  });

  test('side by side: the same normalised point lands on each display it was seen on', () => {
    const primary = display('a', 0, 0, 1920, 1080, 1, true);
    const hidpiRight = display('b', 1920, 0, 1280, 800, 2);
    const displays = [primary, hidpiRight];
    const onRight = toDesktopPoint({ x: 0.5, y: 0.5 }, hidpiRight);
    expect(onRight).toEqual({ x: 2560, y: 400 });
    expect(displayAt(onRight, displays)).toBe(hidpiRight);
    expect(displayAt(toDesktopPoint({ x: 0.5, y: 0.5 }, primary), displays)).toBe(primary);
  });

  test('the far edge stays on the display instead of spilling onto the next', () => {
    const primary = display('a', 0, 0, 1920, 1080, 1, true);
    const right = display('b', 1920, 0, 1920, 1080);
    const edge = toDesktopPoint({ x: 1, y: 1 }, primary);
    expect(edge).toEqual({ x: 1919, y: 1079 });
    expect(displayAt(edge, [primary, right])).toBe(primary);
    expect(toDesktopPoint({ x: 1, y: 1 }, display('r', 0, 0, 1440, 900, 2))).toEqual({ x: 1439.5, y: 899.5 });
  });
});

test('mapAction maps every point of an action and leaves the rest alone', () => {
  const right = display('b', 1920, -100, 1000, 500);
  expect(mapAction({ kind: 'click', button: 'left', count: 2, at: { x: 0.1, y: 0.2 } }, right)).toEqual({ kind: 'click', button: 'left', count: 2, at: { x: 2020, y: 0 } });
  expect(mapAction({ kind: 'drag', button: 'left', from: { x: 0, y: 0 }, to: { x: 0.5, y: 0.5 } }, right)).toEqual({
    kind: 'drag',
    button: 'left',
    from: { x: 1920, y: -100 },
    to: { x: 2420, y: 150 },
  });
  expect(mapAction({ kind: 'move', to: { x: 0.5, y: 1 } }, right)).toEqual({ kind: 'move', to: { x: 2420, y: 399 } });
  expect(mapAction({ kind: 'scroll', direction: 'down', amount: 3 }, right)).toEqual({ kind: 'scroll', direction: 'down', amount: 3, at: undefined });
  expect(mapAction({ kind: 'type', text: 'hi' }, right)).toEqual({ kind: 'type', text: 'hi' });
});
