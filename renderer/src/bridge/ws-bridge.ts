import type { KestrelBridge, HostEvent, Base64Codec, ReplyMessage } from '../../../host/ui-types.ts';

// The wire format lives in host/wire.ts; the renderer may import only its types, so the
// two small functions are mirrored here (JSON with {"$bytes": base64}).
const base64: Base64Codec = {
  encode(bytes) {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  },
  decode(text) {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  },
};

const encode = (value: unknown) =>
  JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? { $bytes: base64.encode(v) } : v));
const decode = (text: string): unknown =>
  JSON.parse(text, (_k, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const bytes = (v as { $bytes?: unknown }).$bytes;
      if (Object.keys(v).length === 1 && typeof bytes === 'string') return base64.decode(bytes);
    }
    return v;
  });

export class HostUnreachable extends Error {
  override readonly name = 'HostUnreachable';
}

/** The bridge in a browser: the browser host's WebSocket, authorised by the page URL's token. */
export function connectWebSocketBridge(url: string): Promise<KestrelBridge> {
  return new Promise((resolveBridge, reject) => {
    const socket = new WebSocket(url);
    const pending = new Map<number, { done: (v: unknown) => void; fail: (e: Error) => void }>();
    const listeners = new Set<(event: HostEvent) => void>();
    let nextId = 1;
    socket.onopen = () => resolveBridge(bridge);
    socket.onerror = () => reject(new HostUnreachable('could not connect to the Kestrel host; is `kestrel ui` still running, and is the token in the address right?'));
    socket.onclose = () => {
      for (const { fail } of pending.values()) fail(new HostUnreachable('the connection to the Kestrel host closed'));
      pending.clear();
      for (const listener of listeners) listener({ type: 'state', state: { phase: 'idle', step: 0, awaitingConfirmation: false, lastStatus: 'error', lastReason: 'disconnected from the Kestrel host' } });
    };
    socket.onmessage = (message) => {
      const reply = decode(String(message.data)) as ReplyMessage;
      if ('event' in reply) {
        for (const listener of listeners) listener(reply.event);
        return;
      }
      const waiter = pending.get(reply.id);
      if (!waiter) return;
      pending.delete(reply.id);
      if (reply.ok) waiter.done(reply.output);
      else waiter.fail(new Error(reply.error));
    };
    const bridge: KestrelBridge = {
      host: 'browser',
      call: ((route: string, input?: unknown) =>
        new Promise<unknown>((done, fail) => {
          if (socket.readyState !== WebSocket.OPEN) {
            fail(new HostUnreachable('not connected to the Kestrel host; reload the page'));
            return;
          }
          const id = nextId++;
          pending.set(id, { done, fail });
          socket.send(encode({ id, route, input }));
        })) as KestrelBridge['call'],
      onEvent(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
  });
}
