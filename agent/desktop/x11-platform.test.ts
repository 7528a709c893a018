import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { X11Platform, x11Problem } from './x11-platform.ts';

// A stand-in `xrandr` first on PATH prints a recorded `--listmonitors` (test/fixtures/displays).
const dir = mkdtempSync(join(tmpdir(), 'kestrel-xrandr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixtures = join(import.meta.dirname, '../../test/fixtures/displays');

function platformPrinting(fixture: string, extra: NodeJS.ProcessEnv = {}): X11Platform {
  const bin = mkdtempSync(join(dir, 'bin-'));
  writeFileSync(join(bin, 'xrandr'), `#!/bin/sh\ncat '${join(fixtures, fixture)}'\n`);
  chmodSync(join(bin, 'xrandr'), 0o755);
  const env = { PATH: `${bin}${delimiter}${process.env.PATH}`, DISPLAY: ':0', ...extra };
  return new X11Platform({ env, nut: () => Promise.reject(new Error('not used')) });
}

test('an XWayland server is named as a Wayland session, with what to do', async () => {
  await expect(platformPrinting('xwayland.txt').displays()).rejects.toMatchObject({
    code: 'wayland',
    message: expect.stringMatching(/^this is a Wayland session: Kestrel sees and controls X11 only, .* or set KESTREL_XWAYLAND=1 to drive XWayland apps only$/),
  });
  expect((await platformPrinting('xwayland.txt', { KESTREL_XWAYLAND: '1' }).displays()).map((d) => d.name)).toEqual(['XWAYLAND0', 'XWAYLAND1']);
  expect((await platformPrinting('xrandr-above-and-left.txt').displays()).map((d) => d.name)).toEqual(['eDP-1', 'DP-1', 'HDMI-1']);
});

test('no DISPLAY: a Wayland session and a bare console get different lines', () => {
  expect(x11Problem({ XDG_SESSION_TYPE: 'wayland' })?.code).toBe('wayland');
  expect(x11Problem({})?.message).toBe('there is no display (DISPLAY is not set); run Kestrel inside an X11 session, or under Xvfb');
  expect(x11Problem({ DISPLAY: ':1' })).toBeUndefined();
});
