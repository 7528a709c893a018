import { describe, expect, test } from 'vitest';
import { chooseDisplay, parseListMonitors } from './xrandr.ts';

describe('xrandr --listmonitors', () => {
  test('Xvfb: one screen', () => {
    expect(parseListMonitors('Monitors: 1\n 0: +screen 1024/271x768/203+0+0  screen\n')).toEqual([
      { id: '0', name: 'screen', bounds: { x: 0, y: 0, width: 1024, height: 768 }, scaleFactor: 1, primary: true, pixelSize: { width: 1024, height: 768 } },
    ]);
  });

  test('a laptop with a monitor to its left (negative origin is written +-1920)', () => {
    const text = 'Monitors: 2\n 0: +*eDP-1 2560/344x1600/215+0+0  eDP-1\n 1: +HDMI-1 1920/527x1080/296+-1920+260  HDMI-1\n';
    const displays = parseListMonitors(text);
    expect(displays.map((d) => [d.name, d.bounds, d.primary])).toEqual([
      ['eDP-1', { x: 0, y: 0, width: 2560, height: 1600 }, true],
      ['HDMI-1', { x: -1920, y: 260, width: 1920, height: 1080 }, false],
    ]);
  });

  test('side by side, primary on the right; a virtual monitor without outputs keeps its own name', () => {
    const text = 'Monitors: 3\n 0: +DP-1 1920/527x1080/296+0+0  DP-1\n 1: +*DP-2 2560/597x1440/336+1920+0  DP-2\n 2: VIRTUAL-LEFT 1280/340x1024/270+4480+0  none\n';
    const displays = parseListMonitors(text);
    expect(displays.map((d) => `${d.id}:${d.name}:${d.primary}`)).toEqual(['0:DP-1:false', '1:DP-2:true', '2:VIRTUAL-LEFT:false']);
    expect(chooseDisplay(displays).name).toBe('DP-2');
    expect(chooseDisplay(displays, 0).name).toBe('DP-1');
    expect(chooseDisplay(displays, 'VIRTUAL-LEFT').bounds.x).toBe(4480);
    expect(() => chooseDisplay(displays, 7)).toThrow("there is no display '7'; choose one of: 0 (DP-1 1920×1080+0+0), 1 (DP-2 2560×1440+1920+0, primary), 2 (VIRTUAL-LEFT 1280×1024+4480+0)");
  });

  test('no primary marked: the one at the origin is primary', () => {
    const displays = parseListMonitors('Monitors: 2\n 0: +A 800/1x600/1+800+0  A\n 1: +B 800/1x600/1+0+0  B\n');
    expect(displays.find((d) => d.primary)?.name).toBe('B');
  });

  test('garbage gives no displays', () => {
    expect(parseListMonitors('Can\'t open display :99\n')).toEqual([]);
  });
});
