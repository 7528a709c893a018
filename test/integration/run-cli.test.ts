import { describe, expect, test } from 'vitest';
import { runKestrel as kestrel } from '../harness/cli.ts';

// No display and no server needed: each of these must fail before touching either.
const noDisplay = { ...process.env };
delete noDisplay.DISPLAY;
delete noDisplay.WAYLAND_DISPLAY;
delete noDisplay.XDG_SESSION_TYPE;
const model = ['--endpoint', 'http://127.0.0.1:1234/v1', '--model', 'm'];

describe('kestrel run refuses bad input in one line', () => {
  test.each([
    [['run', 'x'], 2, 'no model: give --endpoint <url> and --model <name>'],
    [['run', '   ', ...model], 2, 'the instruction is empty'],
    [['run', 'x', ...model, '--max-steps', '0'], 2, '--max-steps must be a positive whole number'],
    [['run', 'x', ...model, '--typing', 'telepathy'], 2, '--typing must be auto, keys or clipboard'],
    [['run', 'x', ...model, '--temperature', 'hot'], 2, 'temperature must be a number from 0 to 2'],
    [['run', 'x', '--endpoint', 'http://127.0.0.1:1234', '--model', 'm'], 2, 'has no /v1'],
    [['run', 'x', ...model], 1, 'there is no display (DISPLAY is not set); run Kestrel inside an X11 session, or under Xvfb'],
  ])('%j → exit %i', async (args, code, message) => {
    const result = await kestrel(args, noDisplay);
    expect(result.code).toBe(code);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('a Wayland session without X11 is named as such', async () => {
    const result = await kestrel(['run', 'x', ...model], { ...noDisplay, WAYLAND_DISPLAY: 'wayland-0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'kestrel: this is a Wayland session: Kestrel sees and controls X11 only, so native Wayland windows would be invisible to it; log in with an X11 session ("GNOME on Xorg" or "Ubuntu on Xorg" on the login screen), or set KESTREL_XWAYLAND=1 to drive XWayland apps only (DISPLAY is not set)\n',
    );
  });
});
