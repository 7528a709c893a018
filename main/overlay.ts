import { join } from 'node:path';
import { BrowserWindow, screen } from 'electron';
import { desktopOffsetToDip } from '../agent/desktop.ts';
import type { DisplayInfo } from '../agent/types.ts';
import type { DesktopDrawing, OverlayMark } from '../host/index.ts';

/**
 * One transparent, click-through, always-on-top window per display, showing where the next
 * action lands. Content protection keeps it out of captures on Windows 10 2004 and later; on
 * X11, macOS (ScreenCaptureKit ignores it from macOS 15) and older Windows the capture guard
 * hides it for the moment of each screenshot instead (overlayHiddenDuringCapture).
 */
export class Overlays implements DesktopDrawing {
  private readonly windows = new Map<string, BrowserWindow>();

  constructor(
    private readonly preload: string,
    private readonly page: (win: BrowserWindow) => Promise<void>,
  ) {
    // Monitors come and go, and change scale: rebuild open overlays to match.
    const rebuild = () => {
      if (this.windows.size === 0) return;
      this.closeAll();
      this.open();
    };
    screen.on('display-added', rebuild);
    screen.on('display-removed', rebuild);
    screen.on('display-metrics-changed', rebuild);
  }

  open(): void {
    for (const display of screen.getAllDisplays()) {
      const id = String(display.id);
      if (this.windows.has(id)) continue;
      const win = new BrowserWindow({
        ...display.bounds,
        transparent: true,
        frame: false,
        resizable: false,
        movable: false,
        focusable: false,
        skipTaskbar: true,
        hasShadow: false,
        alwaysOnTop: true,
        show: false,
        webPreferences: { preload: this.preload, contextIsolation: true, sandbox: true, nodeIntegration: false },
      });
      win.setIgnoreMouseEvents(true);
      win.setAlwaysOnTop(true, 'screen-saver');
      win.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
      win.setContentProtection(true);
      win.on('closed', () => this.windows.delete(id));
      void this.page(win).then(() => win.showInactive());
      this.windows.set(id, win);
    }
  }

  /**
   * Shows the mark on its display and clears the others. The mark is in the operator's desktop
   * units (physical pixels on Windows); the overlay page draws in the display's DIPs.
   */
  mark(mark: OverlayMark | undefined, displays: readonly DisplayInfo[]): void {
    const info = displays.find((d) => d.id === mark?.displayId);
    const dip = screen.getAllDisplays().find((d) => String(d.id) === mark?.displayId);
    const shown = mark && info && dip ? { ...mark, ...desktopOffsetToDip(mark, info, dip.bounds) } : mark;
    for (const [id, win] of this.windows) win.webContents.send('overlay:mark', shown?.displayId === id ? shown : null);
  }

  async hide(): Promise<void> {
    for (const win of this.windows.values()) win.hide();
    // Give the X server a frame to repaint what was under the overlay before the capture.
    await new Promise((done) => setTimeout(done, 60));
  }

  show(): void {
    for (const win of this.windows.values()) win.showInactive();
  }

  closeAll(): void {
    for (const win of this.windows.values()) win.destroy();
    this.windows.clear();
  }
}

export const overlayPreloadPath = (dir: string) => join(dir, '../preload/overlay-preload.cjs');
