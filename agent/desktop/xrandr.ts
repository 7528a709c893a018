import type { DisplayInfo } from '../operator.ts';

/**
 * Reads `xrandr --listmonitors`:
 *   Monitors: 2
 *    0: +*DP-1 2560/597x1440/336+0+0  DP-1
 *    1: +HDMI-1 1920/527x1080/296+2560+180  HDMI-1
 * '*' marks the primary. X11 positions monitors in physical pixels, so the scale factor is 1.
 */
export function parseListMonitors(text: string): DisplayInfo[] {
  const displays: DisplayInfo[] = [];
  const line = /^\s*(\d+):\s+\+?(\*?)(\S+)\s+(\d+)\/\d+x(\d+)\/\d+([+-]-?\d+)([+-]-?\d+)(?:\s+(\S+))?/;
  for (const row of text.split('\n')) {
    const m = line.exec(row);
    if (!m) continue;
    const [, index, star, name, width, height, x, y, output] = m;
    displays.push({
      id: index!,
      name: output && output !== 'none' ? output : name!,
      bounds: { x: Number(x!.replace('+-', '-')), y: Number(y!.replace('+-', '-')), width: Number(width), height: Number(height) },
      scaleFactor: 1,
      primary: star === '*',
      pixelSize: { width: Number(width), height: Number(height) },
    });
  }
  if (displays.length > 0 && !displays.some((d) => d.primary)) {
    const origin = displays.find((d) => d.bounds.x === 0 && d.bounds.y === 0) ?? displays[0]!;
    displays[displays.indexOf(origin)] = { ...origin, primary: true };
  }
  return displays;
}

/** Picks a display by index, id or output name; the primary when none is asked for. */
export function chooseDisplay(displays: readonly DisplayInfo[], wanted?: string | number): DisplayInfo {
  if (displays.length === 0) throw new Error('no displays found');
  if (wanted === undefined || wanted === '') return displays.find((d) => d.primary) ?? displays[0]!;
  const key = String(wanted);
  const found = displays.find((d) => d.id === key || d.name === key) ?? (/^\d+$/.test(key) ? displays[Number(key)] : undefined);
  if (!found) {
    const list = displays.map((d, i) => `${i} (${d.name} ${d.bounds.width}×${d.bounds.height}${d.bounds.x >= 0 ? '+' : ''}${d.bounds.x}${d.bounds.y >= 0 ? '+' : ''}${d.bounds.y}${d.primary ? ', primary' : ''})`).join(', ');
    throw new Error(`there is no display '${key}'; choose one of: ${list}`);
  }
  return found;
}
