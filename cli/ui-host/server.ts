import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { CliError } from '../errors.ts';
import type { KestrelApi } from '../../host/index.ts';
import { attachApiSocket } from './socket.ts';
import { readStaticFile } from './static-files.ts';

export const WEB_ROOT = resolve(import.meta.dirname, '../../out/web');

export interface UiHostOptions {
  port?: number;
  host?: string;
  webRoot?: string;
  /** The typed API served on /api; without it the page loads but has no host to talk to. */
  api?: KestrelApi;
}

export interface UiHost {
  url: string;
  token: string;
  server: Server;
  /**
   * Serves `api` on the socket, for a host that listens first (so a busy port is found before
   * anything slow starts) and creates its API after.
   */
  attachApi(api: KestrelApi): void;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  // The page's own meta CSP, repeated as a header, plus no framing by other sites.
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/**
 * Serves the built renderer on loopback, and the typed API on a WebSocket guarded by the token
 * in the printed URL, so that other local pages and users cannot drive the agent.
 */
export async function startUiHost(options: UiHostOptions = {}): Promise<UiHost> {
  const webRoot = options.webRoot ?? WEB_ROOT;
  if (!existsSync(resolve(webRoot, 'index.html'))) {
    throw new CliError(`the web UI is not built (${webRoot}/index.html is missing); run \`npm run build\` first`);
  }
  const host = options.host ?? '127.0.0.1';
  const token = randomBytes(24).toString('base64url');
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, SECURITY_HEADERS).end();
      return;
    }
    void readStaticFile(webRoot, req.url ?? '/').then((file) => {
      if (!file) {
        res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': file.contentType });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'EADDRINUSE'
          ? new CliError(`port ${options.port} on ${host} is already in use; choose another with --port`)
          : err.code === 'EACCES'
            ? new CliError(`port ${options.port} on ${host} needs more privileges than this user has; choose a port above 1023 with --port`)
            : err,
      ),
    );
    server.listen(options.port ?? 0, host, () => done());
  });
  const { port } = server.address() as AddressInfo;
  let wss: ReturnType<typeof attachApiSocket> | undefined;
  const attachApi = (api: KestrelApi) => {
    if (wss) throw new Error('the UI host already serves an API');
    wss = attachApiSocket(server, api, token, () => [`${host}:${port}`, `localhost:${port}`]);
  };
  if (options.api) attachApi(options.api);
  return {
    url: `http://${host}:${port}/?token=${token}`,
    token,
    server,
    attachApi,
    close: () =>
      new Promise((done) => {
        for (const client of wss?.clients ?? []) client.terminate();
        wss?.close();
        server.close(() => done());
        // Browsers keep connections open between requests; they must not hold the exit up.
        server.closeAllConnections();
      }),
  };
}
