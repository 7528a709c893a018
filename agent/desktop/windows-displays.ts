import type { DisplayInfo } from '../operator.ts';
import { DesktopUnavailableError } from './platform.ts';

/**
 * One monitor as the Windows helper reports it: MONITORINFOEX's fields (rcMonitor and rcWork as
 * [left, top, right, bottom], szDevice, the MONITORINFOF_PRIMARY flag) and GetDpiForMonitor's
 * effective DPI, all read by a per-monitor-DPI-aware thread, so the rectangles are physical
 * pixels of the virtual screen.
 */
interface HelperMonitor {
  readonly szDevice: string;
  readonly rcMonitor: readonly [number, number, number, number];
  readonly rcWork?: readonly [number, number, number, number];
  readonly primary: boolean;
  readonly dpiX: number;
  readonly dpiY?: number;
}

const isRect = (v: unknown): v is [number, number, number, number] => Array.isArray(v) && v.length === 4 && v.every((n) => Number.isInteger(n));

/**
 * The helper's `displays` reply → DisplayInfo, in Windows' enumeration order. Bounds are
 * physical pixels (what SetCursorPos takes in a per-monitor-aware thread), so scaleFactor is 1
 * and the user's 150% is uiScale = DPI / 96.
 */
export function parseWindowsMonitors(reply: unknown): DisplayInfo[] {
  const monitors = (reply as { monitors?: unknown } | null)?.monitors;
  if (!Array.isArray(monitors)) throw new DesktopUnavailableError('the Windows helper answered the monitor query without a monitor list', 'probe');
  const displays = monitors.map((raw: unknown, index): DisplayInfo => {
    const m = raw as Partial<HelperMonitor>;
    if (!isRect(m.rcMonitor) || typeof m.dpiX !== 'number' || m.dpiX <= 0) throw new DesktopUnavailableError(`the Windows helper described monitor ${index} without a rectangle or DPI`, 'probe');
    const [left, top, right, bottom] = m.rcMonitor;
    const width = right - left;
    const height = bottom - top;
    return {
      id: String(index),
      name: (m.szDevice ?? `monitor ${index}`).replace(/^\\\\\.\\/, ''),
      bounds: { x: left, y: top, width, height },
      scaleFactor: 1,
      primary: m.primary === true,
      pixelSize: { width, height },
      uiScale: m.dpiX / 96,
    };
  });
  if (displays.length > 0 && !displays.some((d) => d.primary)) {
    const origin = displays.findIndex((d) => d.bounds.x === 0 && d.bounds.y === 0);
    displays[Math.max(0, origin)] = { ...displays[Math.max(0, origin)]!, primary: true };
  }
  return displays;
}
