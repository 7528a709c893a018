import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { KestrelBridge, HostEvent } from '../host/index.ts';

// Only this object crosses into the renderer: one call function over the typed route table
// (main validates every input) and a subscription to host events. No ipcRenderer, no Node.
const bridge: KestrelBridge = {
  host: 'electron',
  call: ((route: string, input?: unknown) => ipcRenderer.invoke('kestrel:call', route, input)) as KestrelBridge['call'],
  onEvent(listener) {
    const handler = (_event: IpcRendererEvent, hostEvent: HostEvent) => listener(hostEvent);
    ipcRenderer.on('kestrel:event', handler);
    return () => ipcRenderer.removeListener('kestrel:event', handler);
  },
};

contextBridge.exposeInMainWorld('kestrel', Object.freeze(bridge));
