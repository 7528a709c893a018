// Electron-free pieces of the app's web security, so they can be tested without Electron.
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where our pages come from: the built renderer folder, or the dev server in development. */
export interface OwnPages {
  readonly rendererDir: string;
  readonly devServer?: string;
}

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

/** Pages we load ourselves; anything else (a link, a redirect, an injected frame) is foreign. */
export function isOwnPage(url: string, pages: OwnPages): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (pages.devServer) return parsed.origin === new URL(pages.devServer).origin;
  if (parsed.protocol !== 'file:') return false;
  const root = resolve(pages.rendererDir) + sep;
  return resolve(fileURLToPath(parsed)).startsWith(root);
}
