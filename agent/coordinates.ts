import type { Action, DesktopAction, DesktopPoint, NormalizedPoint } from './actions.ts';
import type { DisplayInfo, Screenshot } from './operator.ts';

/**
 * The model points in fractions of the screenshot it saw; the screenshot shows one display at
 * its physical resolution; the pointer lives in the desktop's logical space, where that display
 * starts at its (possibly negative) origin and is `physical / scaleFactor` units big. Going
 * through the display's logical bounds gets HiDPI, non-primary and negative-origin screens right.
 */
export function toDesktopPoint(point: NormalizedPoint, display: DisplayInfo): DesktopPoint {
  const { x, y, width, height } = display.bounds;
  // The last physical pixel, so a point at 1.0 stays on this display instead of the next one.
  const edge = 1 / Math.max(1, display.scaleFactor);
  const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
  return {
    x: clamp(x + point.x * width, x, x + width - edge),
    y: clamp(y + point.y * height, y, y + height - edge),
  };
}

/**
 * The whole desktop unit that contains a point, for pointer APIs that take integers (libnut,
 * SetCursorPos, XTest), kept on the display: on a 2× display, physical pixels 2k and 2k+1 are
 * both point k, so flooring lands on the point that shows the pixel the model chose (rounding
 * would move every odd pixel to the next point, and the last one off the display).
 */
export function toPointerPoint(point: DesktopPoint, display: DisplayInfo): DesktopPoint {
  const { x, y, width, height } = display.bounds;
  const unit = (v: number, lo: number, size: number): number => Math.min(lo + Math.ceil(size) - 1, Math.max(lo, Math.floor(v + 1e-9)));
  return { x: unit(point.x, x, width), y: unit(point.y, y, height) };
}

/** Where a desktop point falls on the display, as fractions (the inverse of toDesktopPoint). */
export function toNormalizedPoint(point: DesktopPoint, display: DisplayInfo): NormalizedPoint {
  const { x, y, width, height } = display.bounds;
  return { x: (point.x - x) / width, y: (point.y - y) / height };
}

/** A pixel of a screenshot (any size: captured or resized) to a desktop point. */
export function imagePixelToDesktop(px: number, py: number, shot: Pick<Screenshot, 'width' | 'height' | 'display'>): DesktopPoint {
  return toDesktopPoint({ x: px / shot.width, y: py / shot.height }, shot.display);
}

/** A desktop point to the pixel of a screenshot of its display (for drawing markers). */
export function desktopToImagePixel(point: DesktopPoint, shot: Pick<Screenshot, 'width' | 'height' | 'display'>): { px: number; py: number } {
  const n = toNormalizedPoint(point, shot.display);
  return { px: n.x * shot.width, py: n.y * shot.height };
}

/** Maps every point of an action from the screenshot's fractions to the display's desktop coordinates. */
export function mapAction(action: Action, display: DisplayInfo): DesktopAction {
  const map = (p: NormalizedPoint): DesktopPoint => toDesktopPoint(p, display);
  switch (action.kind) {
    case 'click':
    case 'mouse_down':
    case 'mouse_up':
    case 'scroll':
      return action.at ? { ...action, at: map(action.at) } : { ...action, at: undefined };
    case 'move':
      return { ...action, to: map(action.to) };
    case 'drag':
      return { ...action, to: map(action.to), ...(action.from ? { from: map(action.from) } : {}) };
    default:
      return action;
  }
}

/** The display whose bounds contain a desktop point, if any. */
export function displayAt(point: DesktopPoint, displays: readonly DisplayInfo[]): DisplayInfo | undefined {
  return displays.find(({ bounds: b }) => point.x >= b.x && point.x < b.x + b.width && point.y >= b.y && point.y < b.y + b.height);
}
