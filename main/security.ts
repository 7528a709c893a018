import { app, session, shell, type IpcMainInvokeEvent, type WebContents } from 'electron';

/** The only scripts, styles and images our pages may load; no remote code, no eval. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Pages we load ourselves (file:// from out/renderer, or the dev server in development). */
export function isOwnPage(url: string, devServer: string | undefined): boolean {
  if (devServer) return url.startsWith(devServer);
  return url.startsWith('file://') && url.includes('/renderer/');
}

/**
 * Electron's security checklist, applied once for every window: a CSP header on every
 * response, every permission request denied, no navigation away from our pages, no new
 * windows (https links go to the system browser), no <webview>.
 */
export function hardenSessions(devServer: string | undefined): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isOwnPage(url, devServer)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

/** IPC is answered only for our own windows' top frames, never for a frame we did not load. */
export function checkSender(event: IpcMainInvokeEvent, allowed: ReadonlySet<WebContents>, devServer: string | undefined): void {
  const frame = event.senderFrame;
  if (!allowed.has(event.sender) || !frame || frame.parent !== null || !isOwnPage(frame.url, devServer)) {
    throw new Error('IPC refused: the sender is not a Kestrel window');
  }
}
