import { expect, test } from 'vitest';
import { CONTENT_SECURITY_POLICY, isOwnPage } from './web-security.ts';

test('only our own renderer pages count as ours', () => {
  const pages = { rendererDir: '/opt/kestrel/out/renderer' };
  expect(isOwnPage('file:///opt/kestrel/out/renderer/index.html', pages)).toBe(true);
  expect(isOwnPage('file:///opt/kestrel/out/renderer/overlay.html', pages)).toBe(true);
  expect(isOwnPage('file:///opt/kestrel/out/renderer/../../../etc/passwd', pages)).toBe(false);
  expect(isOwnPage('file:///opt/kestrel/out/renderer-evil/index.html', pages)).toBe(false);
  expect(isOwnPage('file:///home/me/Downloads/renderer/index.html', pages)).toBe(false);
  expect(isOwnPage('https://example.com/renderer/index.html', pages)).toBe(false);
  expect(isOwnPage('not a url', pages)).toBe(false);
  const dev = { ...pages, devServer: 'http://localhost:5173' };
  expect(isOwnPage('http://localhost:5173/index.html', dev)).toBe(true);
  expect(isOwnPage('http://localhost:5174/index.html', dev)).toBe(false);
  expect(isOwnPage('http://localhost:5173.evil.com/', dev)).toBe(false);
});

test('the CSP allows no remote code, no eval, no plugins, no framing', () => {
  expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
  expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|https?:|\*/);
  expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
  expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
});
