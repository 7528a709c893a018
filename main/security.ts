import { app, session, shell, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { CONTENT_SECURITY_POLICY, isOwnPage, type OwnPages } from '../host/index.ts';

/**
 * Electron's security checklist, applied once for every window: a CSP header on every
 * response, every permission request denied, no navigation away from our pages, no new
 * windows (https links go to the system browser), no <webview>.
 */
export function hardenSessions(pages: OwnPages): void {
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
      if (!isOwnPage(url, pages)) event.preventDefault();
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
export function checkSender(event: IpcMainInvokeEvent, allowed: ReadonlySet<WebContents>, pages: OwnPages): void {
  const frame = event.senderFrame;
  if (!allowed.has(event.sender) || !frame || frame.parent !== null || !isOwnPage(frame.url, pages)) {
    throw new Error('IPC refused: the sender is not a Kestrel window');
  }
}
