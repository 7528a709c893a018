import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { imagePixelToDesktop, mapAction, toDesktopPoint, toPointerPoint } from '../coordinates.ts';
import type { DisplayInfo, Rect } from '../operator.ts';
import { displaysFromElectron, desktopOffsetToDip, type ElectronDisplay } from './electron-displays.ts';
import { parseMacProbe, parseSystemProfiler } from './macos-displays.ts';
import { parseWindowsMonitors } from './windows-displays.ts';
import { chooseDisplay, parseListMonitors } from './xrandr.ts';

// Recorded probe outputs (see test/fixtures/displays/README.md for where each format comes from).
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../test/fixtures/displays', name), 'utf8');
const electron = (name: string) => JSON.parse(fixture(name)) as { primary: number; displays: ElectronDisplay[] };

const layout = (displays: readonly DisplayInfo[]) => displays.map((d) => ({ name: d.name, bounds: d.bounds, scaleFactor: d.scaleFactor, primary: d.primary, pixelSize: d.pixelSize, uiScale: d.uiScale }));

/** Where the model's pixel (px, py) of a full capture of `display` puts the pointer. */
function pointerAt(px: number, py: number, display: DisplayInfo) {
  const size = display.pixelSize!;
  return toPointerPoint(imagePixelToDesktop(px, py, { width: size.width, height: size.height, display }), display);
}

describe('Windows: 150% beside 100%', () => {
  const displays = parseWindowsMonitors(JSON.parse(fixture('windows-150-beside-100.json')));

  test('the helper reply gives physical bounds and each monitor its own scale', () => {
    expect(layout(displays)).toEqual([
      { name: 'DISPLAY1', bounds: { x: 0, y: 0, width: 3840, height: 2160 }, scaleFactor: 1, primary: true, pixelSize: { width: 3840, height: 2160 }, uiScale: 1.5 },
      { name: 'DISPLAY2', bounds: { x: 3840, y: 0, width: 1920, height: 1080 }, scaleFactor: 1, primary: false, pixelSize: { width: 1920, height: 1080 }, uiScale: 1 },
    ]);
  });

  test('every pixel of either capture is the pointer position of that pixel', () => {
    const [big, small] = displays as [DisplayInfo, DisplayInfo];
    expect(pointerAt(0, 0, big)).toEqual({ x: 0, y: 0 });
    expect(pointerAt(3839, 2159, big)).toEqual({ x: 3839, y: 2159 });
    expect(pointerAt(1234, 567, big)).toEqual({ x: 1234, y: 567 });
    expect(pointerAt(0, 0, small)).toEqual({ x: 3840, y: 0 });
    expect(pointerAt(1919, 1079, small)).toEqual({ x: 5759, y: 1079 });
    expect(toDesktopPoint({ x: 0.5, y: 0.5 }, small)).toEqual({ x: 4800, y: 540 });
    // The model's fraction 1.0 stays on the 150% monitor instead of reaching the next one.
    expect(toPointerPoint(toDesktopPoint({ x: 1, y: 1 }, big), big)).toEqual({ x: 3839, y: 2159 });
  });

  test("the app's Electron displays (DIPs) become the same physical layout through dipToScreenRect", () => {
    const { primary, displays: dips } = electron('electron-windows-150-beside-100.json');
    // Windows' answer for this layout, as screen.dipToScreenRect gives it: scale about the origin of the display holding the rect.
    const physical = new Map([[1001, displays[0]!.bounds], [1002, displays[1]!.bounds]]);
    const dipToScreenRect = (rect: Rect): Rect => {
      const d = dips.find((e) => rect.x >= e.bounds.x && rect.x < e.bounds.x + e.bounds.width)!;
      const p = physical.get(d.id)!;
      const s = d.scaleFactor;
      return { x: p.x + (rect.x - d.bounds.x) * s, y: p.y + (rect.y - d.bounds.y) * s, width: rect.width * s, height: rect.height * s };
    };
    const fromApp = displaysFromElectron(dips, primary, 'win32', dipToScreenRect);
    expect(fromApp.map((d) => [d.bounds, d.scaleFactor, d.uiScale, d.primary])).toEqual(displays.map((d) => [d.bounds, d.scaleFactor, d.uiScale, d.primary]));
    expect(fromApp.map((d) => d.id)).toEqual(['1001', '1002']);
    // The overlay draws in DIPs: 3000 physical pixels into the 150% monitor is 2000 DIP.
    expect(desktopOffsetToDip({ x: 3000, y: 1500 }, fromApp[0]!, dips[0]!.bounds)).toEqual({ x: 2000, y: 1000 });
    expect(() => displaysFromElectron(dips, primary, 'win32')).toThrow(/dipToScreenRect/);
  });
});

describe('Windows: a monitor above the primary and one at 175% to its left', () => {
  const displays = parseWindowsMonitors(JSON.parse(fixture('windows-above-and-left.json')));

  test('negative origins, each monitor at its own scale', () => {
    expect(displays.map((d) => [d.name, d.bounds, d.uiScale, d.primary])).toEqual([
      ['DISPLAY2', { x: -320, y: -1440, width: 2560, height: 1440 }, 1, false],
      ['DISPLAY1', { x: 0, y: 0, width: 1920, height: 1200 }, 1.25, true],
      ['DISPLAY3', { x: -2560, y: 0, width: 2560, height: 1600 }, 1.75, false],
    ]);
    expect(chooseDisplay(displays).name).toBe('DISPLAY1');
  });

  test('pixels of the capture above and to the left map to their negative coordinates', () => {
    const [above, , left] = displays as [DisplayInfo, DisplayInfo, DisplayInfo];
    expect(pointerAt(0, 0, above)).toEqual({ x: -320, y: -1440 });
    expect(pointerAt(2559, 1439, above)).toEqual({ x: 2239, y: -1 });
    expect(pointerAt(100, 1599, left)).toEqual({ x: -2460, y: 1599 });
    const click = mapAction({ kind: 'click', button: 'left', count: 1, at: { x: 0.25, y: 0.75 } }, above);
    expect(click).toEqual({ kind: 'click', button: 'left', count: 1, at: { x: 320, y: -360 } });
  });
});

describe('macOS: a Retina laptop at 2× with a 1× monitor to its left', () => {
  const probe = parseMacProbe(fixture('macos-retina-external-left.json'));

  test('Cocoa frames flip into Quartz points; the capture is backing pixels', () => {
    expect(layout(probe.displays)).toEqual([
      { name: 'Built-in Retina Display', bounds: { x: 0, y: 0, width: 1512, height: 982 }, scaleFactor: 2, primary: true, pixelSize: { width: 3024, height: 1964 }, uiScale: 2 },
      { name: 'DELL P2419H', bounds: { x: -1920, y: 0, width: 1920, height: 1080 }, scaleFactor: 1, primary: false, pixelSize: { width: 1920, height: 1080 }, uiScale: 1 },
    ]);
    expect([probe.screenCapture, probe.accessibility]).toEqual([true, true]);
  });

  test('both physical pixels of a Retina point land on that point; the external monitor has negative x', () => {
    const [retina, left] = probe.displays as [DisplayInfo, DisplayInfo];
    expect(pointerAt(200, 100, retina)).toEqual({ x: 100, y: 50 });
    expect(pointerAt(201, 101, retina)).toEqual({ x: 100, y: 50 });
    expect(pointerAt(3023, 1963, retina)).toEqual({ x: 1511, y: 981 });
    expect(toPointerPoint(toDesktopPoint({ x: 1, y: 1 }, retina), retina)).toEqual({ x: 1511, y: 981 });
    expect(pointerAt(0, 0, left)).toEqual({ x: -1920, y: 0 });
    expect(pointerAt(1919, 540, left)).toEqual({ x: -1, y: 540 });
    expect(toDesktopPoint({ x: 0.5, y: 0.5 }, left)).toEqual({ x: -960, y: 540 });
  });

  test("the app's Electron displays give the same layout", () => {
    const { primary, displays } = electron('electron-macos-retina-external-left.json');
    const fromApp = displaysFromElectron(displays, primary, 'darwin');
    expect(fromApp.map((d) => [d.bounds, d.scaleFactor, d.pixelSize, d.primary])).toEqual(probe.displays.map((d) => [d.bounds, d.scaleFactor, d.pixelSize, d.primary]));
    expect(desktopOffsetToDip({ x: 100, y: 50 }, fromApp[0]!, displays[0]!.bounds)).toEqual({ x: 100, y: 50 });
  });
});

describe('macOS: a monitor above, and the menu bar on the external monitor', () => {
  test('a monitor above the laptop gets a negative y; a refused permission is read as false', () => {
    const probe = parseMacProbe(fixture('macos-external-above.json'));
    expect(probe.displays[1]!.bounds).toEqual({ x: -560, y: -1440, width: 2560, height: 1440 });
    expect(pointerAt(1280, 1439, probe.displays[1]!)).toEqual({ x: 720, y: -1 });
    expect([probe.screenCapture, probe.accessibility]).toEqual([false, null]);
  });

  test('the screen with the menu bar is the origin; a Retina laptop to its right, bottoms aligned', () => {
    const probe = parseMacProbe(fixture('macos-external-main-retina-right.json'));
    expect(probe.displays.map((d) => [d.bounds, d.scaleFactor, d.primary])).toEqual([
      [{ x: 0, y: 0, width: 2560, height: 1440 }, 1, true],
      [{ x: 2560, y: 458, width: 1512, height: 982 }, 2, false],
    ]);
    expect(pointerAt(3023, 1963, probe.displays[1]!)).toEqual({ x: 4071, y: 1439 });
    expect(probe.accessibility).toBe(false);
  });

  test('system_profiler places only the main display, with its scale from pixels over points', () => {
    expect(parseSystemProfiler(fixture('system-profiler-retina-and-external.json'))).toEqual([
      { id: '0', name: 'Color LCD', bounds: { x: 0, y: 0, width: 1512, height: 982 }, scaleFactor: 2, primary: true, pixelSize: { width: 3024, height: 1964 }, uiScale: 2 },
    ]);
  });

  test('malformed probe output is one clear line', () => {
    expect(() => parseMacProbe('execution error: Error: ReferenceError')).toThrow('the macOS display probe printed something other than JSON: execution error: Error: ReferenceError');
    expect(() => parseMacProbe('{"screens":[]}')).toThrow('macOS listed no screens');
    expect(() => parseWindowsMonitors({ monitors: [{ rcMonitor: [0, 0, 10] }] })).toThrow('the Windows helper described monitor 0 without a rectangle or DPI');
  });
});

describe('X11 and the Electron app on Linux', () => {
  test('xrandr: a monitor above (negative y) and one to the left (negative x)', () => {
    const displays = parseListMonitors(fixture('xrandr-above-and-left.txt'));
    expect(displays.map((d) => [d.name, d.bounds])).toEqual([
      ['eDP-1', { x: 0, y: 0, width: 1920, height: 1200 }],
      ['DP-1', { x: -320, y: -1440, width: 2560, height: 1440 }],
      ['HDMI-1', { x: -1920, y: 120, width: 1920, height: 1080 }],
    ]);
    expect(pointerAt(10, 20, displays[1]!)).toEqual({ x: -310, y: -1420 });
  });

  test('Electron on X11 at scale 2: DIPs × 2 are root-window pixels', () => {
    const { primary, displays } = electron('electron-linux-scale-2.json');
    expect(displaysFromElectron(displays, primary, 'linux').map((d) => [d.id, d.bounds, d.scaleFactor, d.uiScale, d.primary])).toEqual([
      ['7', { x: 0, y: 0, width: 2560, height: 1600 }, 1, 2, true],
      ['8', { x: 2560, y: 0, width: 1920, height: 1080 }, 1, 2, false],
    ]);
  });
});
