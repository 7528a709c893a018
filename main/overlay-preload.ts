import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { OverlayMark } from '../host/index.ts';

// The overlay page can only listen for marks; it cannot call the API.
contextBridge.exposeInMainWorld(
  'kestrelOverlay',
  Object.freeze({
    onMark(listener: (mark: OverlayMark | null) => void) {
      ipcRenderer.on('overlay:mark', (_event: IpcRendererEvent, mark: OverlayMark | null) => listener(mark));
    },
  }),
);
