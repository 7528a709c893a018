import type { KestrelBridge } from '../../../host/ui-types.ts';
import { connectWebSocketBridge } from './ws-bridge.ts';

declare global {
  interface Window {
    /** Set by Electron's preload; absent in a browser. */
    readonly kestrel?: KestrelBridge;
  }
}

/** Electron's preload bridge when there is one, else the browser host's WebSocket. */
export function connectBridge(): Promise<KestrelBridge> {
  if (window.kestrel) return Promise.resolve(window.kestrel);
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return connectWebSocketBridge(`${scheme}://${location.host}/api?token=${encodeURIComponent(token)}`);
}
