import { release } from 'node:os';
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, type WebContents } from 'electron';
import { overlayHiddenDuringCapture } from '../agent/desktop.ts';
import { agentBindings, createHost, desktopFactory, guardCapture, overlayMark, type Host } from '../host/index.ts';
import type { DisplayInfo } from '../agent/types.ts';
import { Overlays, overlayPreloadPath } from './overlay.ts';
import { safeStorageBox } from './safe-storage.ts';
import { electronDisplays, macPermissions } from './desktop-info.ts';
import { checkSender, hardenSessions } from './security.ts';
import { registerStopShortcut } from './shortcut.ts';
import { createTray } from './tray.ts';
import { messageOf } from '../shared/one-line.ts';

// The Electron host is deliberately thin: windows, overlay, tray, the stop shortcut and the IPC
// wiring. Everything that does work is Electron-free (host/, agent/) and shared with the
// browser host.

const devServer = process.env.ELECTRON_RENDERER_URL;
const rendererDir = join(__dirname, '../renderer');
const ownWindows = new Set<WebContents>();
const ownPages = { rendererDir, ...(devServer ? { devServer } : {}) };

function loadPage(win: BrowserWindow, page: 'index.html' | 'overlay.html'): Promise<void> {
  return devServer ? win.loadURL(`${devServer}/${page}`) : win.loadFile(join(rendererDir, page));
}

function createControlPanel(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1180,
    height: 800,
    title: 'Kestrel',
    show: false,
    webPreferences: {
      preload: join(__dirname, '../preload/preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  const contents = win.webContents;
  ownWindows.add(contents);
  win.on('closed', () => ownWindows.delete(contents));
  win.once('ready-to-show', () => win.show());
  void loadPage(win, 'index.html');
  return win;
}

function wireIpc(host: Host): void {
  ipcMain.handle('kestrel:call', (event, route: unknown, input: unknown) => {
    checkSender(event, ownWindows, ownPages);
    return host.api.call(route, input);
  });
  host.api.subscribe((event) => {
    for (const contents of ownWindows) if (!contents.isDestroyed()) contents.send('kestrel:event', event);
  });
}

async function start(): Promise<void> {
  hardenSessions(ownPages);
  const overlays = new Overlays(overlayPreloadPath(__dirname), (win) => loadPage(win, 'overlay.html'));
  // Electron's screen lists the monitors (its ids name the overlay windows too); on macOS it
  // also answers for the Screen Recording and Accessibility permissions.
  const desktops = desktopFactory(process.env.DISPLAY, { monitors: electronDisplays, appName: 'Kestrel', ...(process.platform === 'darwin' ? { permissions: macPermissions } : {}) });
  const desktop = (displayId?: string) => guardCapture(desktops(displayId), overlays, overlayHiddenDuringCapture(process.platform, release()));
  let host: Host | undefined = undefined;
  const applyHotkey = () => {
    if (!host) return;
    const problem = registerStopShortcut(host.settings.get().stopHotkey, host.runs);
    if (problem) console.error(`Kestrel: ${problem}`);
  };
  host = await createHost({
    host: 'electron',
    version: app.getVersion(),
    settingsFile: join(app.getPath('userData'), 'settings.json'),
    dataDir: app.getPath('userData'),
    secretBox: safeStorageBox,
    display: process.env.DISPLAY,
    desktop,
    ...agentBindings,
    onSettingsChanged: applyHotkey,
  });
  wireIpc(host);
  applyHotkey();

  let displays: readonly DisplayInfo[] = [];
  host.runs.subscribe((event) => {
    if (event.type === 'state') {
      if (event.state.phase === 'idle') overlays.mark(undefined, displays);
      return;
    }
    if (event.type !== 'agent') return;
    if (event.event.type === 'run_started') {
      overlays.open();
      void desktops().displays().then((list) => (displays = list), () => undefined);
    }
    if (event.event.type === 'planned') overlays.mark(overlayMark(event.event, displays), displays);
  });

  let panel = createControlPanel();
  const showPanel = () => {
    if (panel.isDestroyed()) panel = createControlPanel();
    panel.show();
    panel.focus();
  };
  createTray(join(rendererDir, 'kestrel.png'), host.runs, showPanel);
  app.on('activate', showPanel);
}

app.whenReady().then(start, (err: unknown) => {
  console.error(`Kestrel: could not start (${messageOf(err)})`);
  app.exit(1);
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
