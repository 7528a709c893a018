/**
 * The browser host's WebSocket messages. JSON, with bytes (screenshots) carried as
 * `{"$bytes": "<base64>"}` so the same typed API works as over Electron's IPC.
 */
import type { HostEvent } from './types.ts';

export interface CallMessage {
  readonly id: number;
  readonly route: string;
  readonly input?: unknown;
}

export type ReplyMessage =
  | { readonly id: number; readonly ok: true; readonly output: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }
  | { readonly event: HostEvent };

export interface Base64Codec {
  encode(bytes: Uint8Array): string;
  decode(text: string): Uint8Array;
}

export function encodeWire(value: unknown, base64: Base64Codec): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? { $bytes: base64.encode(v) } : v));
}

export function decodeWire(text: string, base64: Base64Codec): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const bytes = (v as { $bytes?: unknown }).$bytes;
      if (keys.length === 1 && typeof bytes === 'string') return base64.decode(bytes);
    }
    return v;
  });
}
