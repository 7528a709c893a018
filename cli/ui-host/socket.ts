import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeWire, encodeWire, type Base64Codec, type CallMessage, type KestrelApi, type ReplyMessage } from '../../host/index.ts';
import { oneLine } from '../../shared/one-line.ts';

export const nodeBase64: Base64Codec = {
  encode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  decode: (text) => new Uint8Array(Buffer.from(text, 'base64')),
};

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Only pages this host served may connect: the token from the printed URL must match, the Host
 * header must name this loopback address (no DNS-rebinding through another name), and a
 * browser's Origin must be this host's own page. Browsers always send Origin on a WebSocket;
 * a client that sends none is not a web page, and the token alone decides for it.
 */
function allowed(req: IncomingMessage, token: string, hostHeaders: readonly string[]): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== '/api') return false;
  const host = req.headers.host ?? '';
  if (!hostHeaders.includes(host)) return false;
  const origin = req.headers.origin;
  if (origin !== undefined && !hostHeaders.some((h) => origin === `http://${h}`)) return false;
  return sameToken(url.searchParams.get('token'), token);
}

/** Serves the typed API on `ws://<host>/api?token=…`: calls in, replies and host events out. */
export function attachApiSocket(server: Server, api: KestrelApi, token: string, hostHeaders: () => string[]): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    if (!allowed(req, token, hostHeaders())) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws: WebSocket) => {
    const send = (message: ReplyMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeWire(message, nodeBase64));
    };
    const unsubscribe = api.subscribe((event) => send({ event }));
    ws.on('close', unsubscribe);
    ws.on('message', (data) => {
      let message: CallMessage;
      try {
        message = decodeWire(data.toString(), nodeBase64) as CallMessage;
      } catch {
        ws.close(1003, 'messages must be JSON');
        return;
      }
      const id = typeof message?.id === 'number' ? message.id : -1;
      api.call(message?.route, message?.input).then(
        (output) => send({ id, ok: true, output }),
        (err: unknown) => send({ id, ok: false, error: oneLine(err) }),
      );
    });
  });
  return wss;
}
