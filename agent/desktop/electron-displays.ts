import type { DisplayInfo, Rect } from '../operator.ts';

/** The fields of Electron's `Display` this needs (agent/ never imports Electron). */
export interface ElectronDisplay {
  readonly id: number;
  readonly label?: string;
  /** In device-independent pixels (DIP). */
  readonly bounds: Rect;
  readonly scaleFactor: number;
}

/**
 * Electron's `screen.getAllDisplays()` → the operator's DisplayInfo, in each OS's pointer space:
 * - macOS: DIPs are Quartz points already; the capture is `scaleFactor` times bigger.
 * - Windows: Chromium lays out DIPs its own way (each monitor scaled about its origin, then
 *   re-joined), so every rectangle goes through `screen.dipToScreenRect` to physical pixels,
 *   the per-monitor-aware space Kestrel's Windows helper works in.
 * - Linux (X11): one scale for all monitors (Xft.dpi / GDK_SCALE); root-window pixels are DIP ×
 *   scale.
 * Ids are Electron's display ids, so the overlay windows and the operator name displays alike.
 */
export function displaysFromElectron(
  displays: readonly ElectronDisplay[],
  primaryId: number,
  platform: NodeJS.Platform,
  dipToScreenRect?: (rect: Rect) => Rect,
): DisplayInfo[] {
  return displays.map((d, index) => {
    const base = { id: String(d.id), name: d.label || `display ${index}`, primary: d.id === primaryId, uiScale: d.scaleFactor };
    if (platform === 'darwin') {
      const pixelSize = { width: Math.round(d.bounds.width * d.scaleFactor), height: Math.round(d.bounds.height * d.scaleFactor) };
      return { ...base, bounds: { ...d.bounds }, scaleFactor: d.scaleFactor, pixelSize };
    }
    let physical: Rect;
    if (platform === 'win32') {
      if (!dipToScreenRect) throw new Error('on Windows, Electron display bounds need screen.dipToScreenRect to become physical pixels');
      physical = dipToScreenRect(d.bounds);
    } else {
      const s = d.scaleFactor;
      physical = { x: Math.round(d.bounds.x * s), y: Math.round(d.bounds.y * s), width: Math.round(d.bounds.width * s), height: Math.round(d.bounds.height * s) };
    }
    return { ...base, bounds: physical, scaleFactor: 1, pixelSize: { width: physical.width, height: physical.height } };
  });
}

/** A point relative to a display's origin, in desktop units → the same point in that display's DIPs (for the overlay page). */
export function desktopOffsetToDip(offset: { x: number; y: number }, display: DisplayInfo, dipBounds: Rect): { x: number; y: number } {
  return { x: (offset.x * dipBounds.width) / display.bounds.width, y: (offset.y * dipBounds.height) / display.bounds.height };
}
