import { Menu, Tray, nativeImage } from 'electron';
import type { RunManager } from '../host/index.ts';

/** A tray icon whose menu shows the control panel and stops, pauses or resumes the run. */
export function createTray(iconPath: string, runs: RunManager, showPanel: () => void): Tray {
  const tray = new Tray(nativeImage.createFromPath(iconPath));
  tray.setToolTip('Kestrel');
  const refresh = () => {
    const phase = runs.current().phase;
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: 'Show Kestrel', click: showPanel },
        { type: 'separator' },
        { label: 'Pause run', enabled: phase === 'running', click: () => runs.pause() },
        { label: 'Resume run', enabled: phase === 'paused', click: () => runs.resume() },
        { label: 'Stop run', enabled: phase !== 'idle', click: () => runs.stop() },
        { type: 'separator' },
        { role: 'quit', label: 'Quit Kestrel' },
      ]),
    );
  };
  runs.subscribe((event) => event.type === 'state' && refresh());
  refresh();
  return tray;
}
