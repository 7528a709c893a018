import type { DisplayInfo } from '../operator.ts';
import { DesktopUnavailableError } from './platform.ts';

/**
 * The macOS probe, run with `osascript -l JavaScript` (JXA, part of every macOS): AppKit's
 * NSScreen list (frame in points, Cocoa's coordinates: origin at the bottom-left corner of the
 * menu-bar screen, y up; backingScaleFactor; localizedName) and the two permissions, read
 * without prompting: CGPreflightScreenCaptureAccess (Screen Recording) and AXIsProcessTrusted
 * (Accessibility). A permission it cannot read is null.
 */
export const MACOS_PROBE_JXA = `ObjC.import('AppKit');
ObjC.import('CoreGraphics');
function run() {
  const screens = $.NSScreen.screens.js.map((s) => {
    const f = s.frame;
    let name = '';
    try { name = s.localizedName.js; } catch (e) {}
    return { id: ObjC.unwrap(s.deviceDescription.objectForKey('NSScreenNumber')), name, frame: [f.origin.x, f.origin.y, f.size.width, f.size.height], backingScaleFactor: s.backingScaleFactor };
  });
  let screenCapture = null;
  let accessibility = null;
  try { screenCapture = Boolean($.CGPreflightScreenCaptureAccess()); } catch (e) {}
  try { ObjC.import('ApplicationServices'); accessibility = Boolean($.AXIsProcessTrusted()); } catch (e) {}
  return JSON.stringify({ screens, screenCapture, accessibility });
}`;

export interface MacProbe {
  readonly displays: DisplayInfo[];
  /** Screen Recording granted (true), refused (false) or unknown (null). */
  readonly screenCapture: boolean | null;
  readonly accessibility: boolean | null;
}

interface ProbeScreen {
  readonly id?: number;
  readonly name?: string;
  readonly frame: readonly [number, number, number, number];
  readonly backingScaleFactor: number;
}

const isFrame = (v: unknown): v is [number, number, number, number] => Array.isArray(v) && v.length === 4 && v.every((n) => typeof n === 'number' && Number.isFinite(n));

/**
 * The probe's JSON → displays in Quartz's global coordinates, which CGEvent (and so nut-js)
 * takes: points, origin at the top-left corner of the menu-bar screen (NSScreen.screens[0]),
 * y down. A Cocoa frame flips with y = mainHeight − (y + height); a screen left of or above the
 * main one gets a negative x or y.
 */
export function parseMacProbe(stdout: string): MacProbe {
  let raw: { screens?: unknown; screenCapture?: unknown; accessibility?: unknown };
  try {
    raw = JSON.parse(stdout) as typeof raw;
  } catch {
    throw new DesktopUnavailableError(`the macOS display probe printed something other than JSON: ${stdout.trim().slice(0, 80)}`, 'probe');
  }
  const screens = raw.screens;
  if (!Array.isArray(screens) || screens.length === 0) throw new DesktopUnavailableError('macOS listed no screens', 'probe');
  const main = screens[0] as Partial<ProbeScreen>;
  if (!isFrame(main.frame)) throw new DesktopUnavailableError('the macOS display probe gave the main screen no frame', 'probe');
  const mainHeight = main.frame[3];
  const displays = screens.map((entry: unknown, index): DisplayInfo => {
    const s = entry as Partial<ProbeScreen>;
    if (!isFrame(s.frame) || typeof s.backingScaleFactor !== 'number' || s.backingScaleFactor <= 0) {
      throw new DesktopUnavailableError(`the macOS display probe described screen ${index} without a frame or scale`, 'probe');
    }
    const [x, y, width, height] = s.frame;
    const scale = s.backingScaleFactor;
    return {
      id: String(index),
      name: s.name || `display ${s.id ?? index}`,
      bounds: { x, y: mainHeight - (y + height), width, height },
      scaleFactor: scale,
      primary: index === 0,
      pixelSize: { width: Math.round(width * scale), height: Math.round(height * scale) },
      uiScale: scale,
    };
  });
  const flag = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
  return { displays, screenCapture: flag(raw.screenCapture), accessibility: flag(raw.accessibility) };
}

/** "3024 x 1964" or "1512 x 982 @ 120.00Hz" → [3024, 1964]. */
function pair(text: unknown): [number, number] | undefined {
  const m = typeof text === 'string' ? /(\d+)\s*x\s*(\d+)/.exec(text) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/**
 * `system_profiler SPDisplaysDataType -json`, the fallback when the probe cannot run: per GPU,
 * `spdisplays_ndrvs` lists the displays with `_spdisplays_pixels` (the pixels drawn),
 * `_spdisplays_resolution` (the size in points, "looks like") and `spdisplays_main`. It does
 * not say where the displays are arranged, so only the main display (always at 0,0 in Quartz's
 * coordinates) can be placed; the others are left out.
 */
export function parseSystemProfiler(stdout: string): DisplayInfo[] {
  let raw: { SPDisplaysDataType?: Array<{ spdisplays_ndrvs?: Array<Record<string, unknown>> }> };
  try {
    raw = JSON.parse(stdout) as typeof raw;
  } catch {
    throw new DesktopUnavailableError('system_profiler SPDisplaysDataType -json printed something other than JSON', 'probe');
  }
  const all = (raw.SPDisplaysDataType ?? []).flatMap((gpu) => gpu.spdisplays_ndrvs ?? []);
  const main = all.find((d) => d.spdisplays_main === 'spdisplays_yes') ?? (all.length === 1 ? all[0] : undefined);
  if (!main) throw new DesktopUnavailableError('system_profiler names no main display', 'probe');
  const points = pair(main._spdisplays_resolution) ?? pair(main.spdisplays_resolution);
  const pixels = pair(main._spdisplays_pixels) ?? points;
  if (!points || !pixels) throw new DesktopUnavailableError('system_profiler gives the main display no resolution', 'probe');
  const scale = pixels[0] / points[0];
  return [
    {
      id: '0',
      name: typeof main._name === 'string' ? main._name : 'main display',
      bounds: { x: 0, y: 0, width: points[0], height: points[1] },
      scaleFactor: scale,
      primary: true,
      pixelSize: { width: pixels[0], height: pixels[1] },
      uiScale: scale,
    },
  ];
}
