import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, test } from 'vitest';
import type { DisplayInfo } from '../operator.ts';
import { DesktopOperator } from './desktop-operator.ts';
import { MACOS_CLICK_JXA, MacPlatform, MACOS_PIXELS_PER_CLICK, permissionMessage, terminalName, type MacTools } from './macos-platform.ts';
import { MACOS_PROBE_JXA } from './macos-displays.ts';
import type { GrabbedImage, NutInput } from './nut.ts';
import { DesktopUnavailableError, overlayHiddenDuringCapture } from './platform.ts';
import { DesktopToolError } from './tools.ts';
import { WindowsHelperError, type WindowsHelperChannel } from './windows-helper.ts';
import { SECURE_DESKTOP_MESSAGE, WindowsPlatform, type WindowTarget } from './windows-platform.ts';

// Windows and macOS never run here: their adapters are driven with a recording nut-js, a fake
// Windows helper and fake macOS tools answering with recorded outputs.
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../test/fixtures/displays', name), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'kestrel-adapters-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Call = [string, ...unknown[]];

function recordingNut(calls: Call[], position = { x: 0, y: 0 }, clipboard = { text: 'what the user copied' }): NutInput {
  const rec = (name: string) => async (...args: unknown[]) => void calls.push([name, ...args]);
  return {
    setPosition: async (x, y) => void (calls.push(['setPosition', x, y]), Object.assign(position, { x, y })),
    getPosition: async () => ({ ...position }),
    pressButton: rec('pressButton'),
    releaseButton: rec('releaseButton'),
    click: rec('click'),
    doubleClick: rec('doubleClick'),
    scroll: rec('scroll'),
    pressKeys: async (keys) => void calls.push(['pressKeys', ...keys]),
    releaseKeys: async (keys) => void calls.push(['releaseKeys', ...keys]),
    type: rec('type'),
    readClipboard: async () => (calls.push(['readClipboard']), clipboard.text),
    writeClipboard: async (text) => void (calls.push(['writeClipboard', text]), (clipboard.text = text)),
    grabRegion: async (): Promise<GrabbedImage> => {
      throw new Error('not used');
    },
  };
}

const png = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#336699' } }).png().toBuffer();

/** A Windows helper that answers from a table and records each request. */
function fakeHelper(calls: Call[], answers: Partial<Record<string, (args: readonly (string | number)[]) => unknown>> = {}): WindowsHelperChannel {
  return {
    async request(op, args = []) {
      calls.push([`helper:${op}`, ...args]);
      const answer = answers[op];
      if (answer) return answer(args);
      if (op === 'displays') return JSON.parse(fixture('windows-150-beside-100.json'));
      if (op === 'move') return { x: args[0], y: args[1] };
      if (op === 'position') return { x: 7, y: 8 };
      if (op === 'target') return { secureDesktop: false, pid: 42, process: 'notepad', title: 'notes.txt - Notepad', elevation: 0, selfElevated: false } satisfies WindowTarget;
      return {};
    },
  };
}

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('Windows adapter', () => {
  function windows(answers?: Parameters<typeof fakeHelper>[1], typing?: 'clipboard') {
    const calls: Call[] = [];
    const nut = recordingNut(calls);
    const platform = new WindowsPlatform({ helper: fakeHelper(calls, answers), nut: async () => nut, tempDir: work, ...(typing ? { typing } : {}) });
    return { calls, platform, operator: new DesktopOperator({ adapter: platform, actionDelayMs: 0 }) };
  }

  test('the operator checks the target window, places the pointer through the helper and clicks with nut-js', async () => {
    const { calls, operator } = windows();
    const display = await operator.display();
    expect(display.name).toBe('DISPLAY1');
    await operator.execute({ kind: 'click', button: 'left', count: 2, at: { x: 1919.6, y: 1080.2 } });
    expect(calls).toEqual([['helper:displays'], ['helper:target', 1920, 1080], ['helper:move', 1919, 1080], ['click', 'left'], ['click', 'left']]);
  });

  test('scrolls in whole wheel clicks through the helper; drags with nut-js buttons', async () => {
    const { calls, operator } = windows();
    await operator.execute({ kind: 'scroll', direction: 'down', amount: 2.6, at: { x: 100, y: 100 } });
    expect(calls.slice(-1)).toEqual([['helper:scroll', 'down', 3]]);
    calls.length = 0;
    await operator.execute({ kind: 'drag', button: 'left', from: { x: 10, y: 10 }, to: { x: 110, y: 60 } });
    expect(calls[0]).toEqual(['helper:target', 10, 10]);
    expect(calls.filter(([n]) => n === 'pressButton' || n === 'releaseButton')).toEqual([['pressButton', 'left'], ['releaseButton', 'left']]);
    expect(calls.filter(([n]) => n === 'helper:move').at(-1)).toEqual(['helper:move', 110, 60]);
  });

  test('text goes as Unicode key events in chunks, newlines and tabs as key presses', async () => {
    const { calls, operator } = windows();
    await operator.execute({ kind: 'type', text: 'héllo 日本\r\nwörld\t!' });
    expect(calls.filter(([n]) => n !== 'helper:target')).toEqual([
      ['helper:type', base64('héllo 日本')],
      ['pressKeys', 'Enter'],
      ['releaseKeys', 'Enter'],
      ['helper:type', base64('wörld')],
      ['pressKeys', 'Tab'],
      ['releaseKeys', 'Tab'],
      ['helper:type', base64('!')],
    ]);
    calls.length = 0;
    await operator.execute({ kind: 'type', text: 'x'.repeat(130) });
    expect(calls.filter(([n]) => n === 'helper:type').map(([, b]) => Buffer.from(b as string, 'base64').length)).toEqual([64, 64, 2]);
  });

  test('keys map to nut-js names; the logo key is Win; a character press is typed', async () => {
    const { calls, operator } = windows();
    await operator.execute({ kind: 'hotkey', keys: ['ctrl', 'shift', 'escape'] });
    await operator.execute({ kind: 'press', key: 'command', presses: 1 });
    await operator.execute({ kind: 'press', key: 'A', presses: 2 });
    await operator.execute({ kind: 'key_down', key: 'altright' });
    expect(calls.filter(([n]) => n !== 'helper:target')).toEqual([
      ['pressKeys', 'LeftControl'], ['pressKeys', 'LeftShift'], ['pressKeys', 'Escape'],
      ['releaseKeys', 'Escape'], ['releaseKeys', 'LeftShift'], ['releaseKeys', 'LeftControl'],
      ['pressKeys', 'LeftWin'], ['releaseKeys', 'LeftWin'],
      ['helper:type', base64('AA')],
      ['pressKeys', 'RightAlt'],
    ]);
    expect(await operator.refusal({ kind: 'press', key: 'browserback', presses: 1 })).toBe("the 'browserback' key cannot be pressed on Windows through nut-js");
    expect(await operator.refusal({ kind: 'hotkey', keys: ['ctrl', '€'] })).toMatch(/^'€' is not a key of its own on Windows; to enter the character, type it/);
    expect(await operator.refusal({ kind: 'press', key: '€', presses: 1 })).toBeUndefined();
  });

  test("--typing clipboard pastes with Ctrl+V and puts the clipboard's text back", async () => {
    const { calls, operator } = windows(undefined, 'clipboard');
    await operator.execute({ kind: 'type', text: 'pasted ✓' });
    expect(calls.filter(([n]) => n !== 'helper:target')).toEqual([
      ['readClipboard'], ['writeClipboard', 'pasted ✓'],
      ['pressKeys', 'LeftControl'], ['pressKeys', 'V'], ['releaseKeys', 'V'], ['releaseKeys', 'LeftControl'],
      ['writeClipboard', 'what the user copied'],
    ]);
  });

  test('an elevated window under the pointer or in front stops the action with one line (UIPI)', async () => {
    const elevated = { secureDesktop: false, pid: 7, process: 'Taskmgr', title: 'Task Manager', elevation: 1, selfElevated: false };
    const { calls, operator } = windows({ target: () => elevated });
    const click = operator.execute({ kind: 'click', button: 'left', count: 1, at: { x: 50, y: 50 } });
    await expect(click).rejects.toThrow(
      'the window “Task Manager”, Taskmgr.exe runs as administrator and Windows blocks input to it from Kestrel, which does not (UIPI); run Kestrel as administrator to control it, or do that part yourself',
    );
    await expect(operator.execute({ kind: 'type', text: 'x' })).rejects.toMatchObject({ code: 'uipi' });
    expect(calls.filter(([n]) => !String(n).startsWith('helper:'))).toEqual([]);
    // A window whose token cannot even be read has more rights than Kestrel too.
    const { operator: other } = windows({ target: () => ({ ...elevated, elevation: -1, title: '' }) });
    await expect(other.execute({ kind: 'press', key: 'enter', presses: 1 })).rejects.toThrow(/^the window Taskmgr.exe runs as administrator/);
    // Kestrel itself elevated: no block.
    const { operator: admin } = windows({ target: () => ({ ...elevated, selfElevated: true }) });
    await expect(admin.execute({ kind: 'press', key: 'enter', presses: 1 })).resolves.toBeUndefined();
  });

  test('the secure desktop (UAC prompt) is said in one line, for actions and captures', async () => {
    const { operator } = windows({
      target: () => ({ secureDesktop: true, pid: 0, process: '', title: '', elevation: 0, selfElevated: false }),
      capture: () => {
        throw new WindowsHelperError('secure-desktop', 'the secure desktop is showing');
      },
    });
    await expect(operator.execute({ kind: 'press', key: 'enter', presses: 1 })).rejects.toThrow(SECURE_DESKTOP_MESSAGE);
    await expect(operator.screenshot()).rejects.toMatchObject({ name: 'DesktopUnavailableError', code: 'secure-desktop', message: SECURE_DESKTOP_MESSAGE });
  });

  test('captures the chosen monitor at its physical size through a temporary PNG, which is removed', async () => {
    const image = await png(1920, 1080);
    let written = '';
    const { calls, operator } = windows({
      capture: (args) => {
        written = String(args[4]);
        writeFileSync(written, image);
        return { width: 1920, height: 1080 };
      },
    });
    const op = new DesktopOperator({ adapter: (operator as unknown as { platform: WindowsPlatform }).platform, display: 'DISPLAY2' });
    const shot = await op.screenshot();
    expect(calls.find(([n]) => n === 'helper:capture')!.slice(1, 5)).toEqual([3840, 0, 1920, 1080]);
    expect([shot.width, shot.height, shot.display.name]).toEqual([1920, 1080, 'DISPLAY2']);
    expect(existsSync(written)).toBe(false);
  });

  test('a pointer that does not reach its pixel is said, with the likely cause', async () => {
    const { operator } = windows({ move: () => ({ x: 0, y: 0 }) });
    await expect(operator.execute({ kind: 'move', to: { x: 500, y: 400 } })).rejects.toThrow(
      'the pointer stopped at (0, 0) instead of (500, 400); a program is confining it (a game, a remote-desktop client): release it and run again',
    );
  });
});

describe('macOS adapter', () => {
  function mac(options: { probe?: string; failProbe?: boolean; permissions?: { screen: boolean | null; accessibility: boolean | null } } = {}) {
    const calls: Call[] = [];
    const nut = recordingNut(calls, { x: 300, y: 200 });
    const tools: MacTools = async (command, args) => {
      calls.push([command, ...args]);
      if (command === 'osascript' && args.includes(MACOS_PROBE_JXA)) {
        if (options.failProbe) throw new DesktopToolError('osascript osascript failed with exit code 1: execution error');
        return { stdout: Buffer.from(fixture(options.probe ?? 'macos-retina-external-left.json')), stderr: '' };
      }
      if (command === 'system_profiler') return { stdout: Buffer.from(fixture('system-profiler-retina-and-external.json')), stderr: '' };
      if (command === 'screencapture') {
        const [, , , rect, file] = args as string[];
        const [, , w, h] = rect!.slice(2).split(',').map(Number);
        const scale = w === 1512 || w === 1440 ? 2 : 1; // the Retina laptops of the recorded layouts
        writeFileSync(file!, await png(w! * scale, h! * scale));
      }
      return { stdout: Buffer.alloc(0), stderr: '' };
    };
    const permissions = options.permissions ? { screenCapture: () => options.permissions!.screen, accessibility: () => options.permissions!.accessibility } : undefined;
    const platform = new MacPlatform({ tools, nut: async () => nut, appName: 'Terminal', tempDir: work, ...(permissions ? { permissions } : {}) });
    return { calls, platform, operator: (display?: string) => new DesktopOperator({ adapter: platform, actionDelayMs: 0, ...(display ? { display } : {}) }) };
  }

  test('captures the monitor left of the Retina laptop with screencapture -R in points (negative x attached to -R)', async () => {
    const { calls, operator } = mac();
    const shot = await operator('DELL P2419H').screenshot();
    expect(calls.find(([n]) => n === 'screencapture')!.slice(1, 5)).toEqual(['-x', '-t', 'png', '-R-1920,0,1920,1080']);
    expect([shot.width, shot.height]).toEqual([1920, 1080]);
    const retina = await operator().screenshot();
    expect([retina.width, retina.height, retina.display.scaleFactor]).toEqual([3024, 1964, 2]);
  });

  test('a refused Screen Recording permission stops the capture with the pane to open; the app can answer instead', async () => {
    const { calls, operator } = mac({ probe: 'macos-external-above.json' });
    await expect(operator().screenshot()).rejects.toThrow(permissionMessage('screen', 'Terminal'));
    expect(permissionMessage('screen', 'Terminal')).toBe(
      'macOS has not given Terminal Screen Recording permission, which Kestrel needs to see the screen: open System Settings → Privacy & Security → Screen Recording (open "x-apple.systempreferences:com.apple.preference.security?Privacy_ScreenCapture"), turn it on for Terminal, then quit and reopen Terminal',
    );
    expect(calls.some(([n]) => n === 'screencapture')).toBe(false);
    const granted = mac({ probe: 'macos-external-above.json', permissions: { screen: true, accessibility: null } });
    await expect(granted.operator().screenshot()).resolves.toMatchObject({ width: 2880, height: 1800 });
  });

  test('a refused Accessibility permission stops input actions before anything is sent', async () => {
    const { calls, operator } = mac({ probe: 'macos-external-main-retina-right.json' });
    await expect(operator().execute({ kind: 'click', button: 'left', count: 1, at: { x: 10, y: 10 } })).rejects.toMatchObject({
      code: 'permission',
      message: permissionMessage('accessibility', 'Terminal'),
    });
    await expect(operator().execute({ kind: 'wait', seconds: 0 })).resolves.toBeUndefined();
    expect(calls.filter(([n]) => n !== 'osascript')).toEqual([]);
  });

  test('clicks: single and double through nut-js, triple with click state 3 through a CGEvent script', async () => {
    const { calls, operator } = mac();
    const op = operator();
    await op.execute({ kind: 'click', button: 'left', count: 2, at: { x: 100.75, y: 50.5 } });
    expect(calls.filter(([n]) => n !== 'osascript')).toEqual([['setPosition', 100, 50], ['doubleClick', 'left']]);
    calls.length = 0;
    await op.execute({ kind: 'click', button: 'left', count: 3 });
    expect(calls.at(-1)).toEqual(['osascript', '-l', 'JavaScript', '-e', MACOS_CLICK_JXA, '100', '50', '3', 'left']);
  });

  test('scrolls in pixels, types exact Unicode, and the logo key is Command', async () => {
    const { calls, operator } = mac();
    const op = operator();
    await op.execute({ kind: 'scroll', direction: 'down', amount: 2 });
    await op.execute({ kind: 'type', text: 'naïve 日本\n' });
    await op.execute({ kind: 'hotkey', keys: ['command', 'c'] });
    await op.execute({ kind: 'hotkey', keys: ['win', 'option', 'escape'] });
    expect(calls.filter(([n]) => n !== 'osascript')).toEqual([
      ['scroll', 'down', 2 * MACOS_PIXELS_PER_CLICK],
      ['type', 'naïve 日本'],
      ['pressKeys', 'Enter'], ['releaseKeys', 'Enter'],
      ['pressKeys', 'LeftCmd'], ['pressKeys', 'C'], ['releaseKeys', 'C'], ['releaseKeys', 'LeftCmd'],
      ['pressKeys', 'LeftCmd'], ['pressKeys', 'LeftAlt'], ['pressKeys', 'Escape'], ['releaseKeys', 'Escape'], ['releaseKeys', 'LeftAlt'], ['releaseKeys', 'LeftCmd'],
    ]);
  });

  test('without JXA, system_profiler still gives the main display', async () => {
    const { operator } = mac({ failProbe: true });
    expect((await operator().displays()).map((d) => [d.name, d.bounds, d.scaleFactor])).toEqual([['Color LCD', { x: 0, y: 0, width: 1512, height: 982 }, 2]]);
  });

  test('permissions belong to the terminal a CLI run started from', () => {
    expect(terminalName({ TERM_PROGRAM: 'Apple_Terminal' })).toBe('Terminal');
    expect(terminalName({ TERM_PROGRAM: 'iTerm.app' })).toBe('iTerm');
    expect(terminalName({})).toBe('the app you started Kestrel from');
  });

  test('the JXA scripts are valid JavaScript', () => {
    expect(() => new Function(MACOS_PROBE_JXA)).not.toThrow();
    expect(() => new Function(MACOS_CLICK_JXA)).not.toThrow();
  });
});

describe('which OS needs the overlay hidden around each capture', () => {
  test('only Windows 10 2004 (build 19041) and later keeps it out of captures by content protection', () => {
    expect(overlayHiddenDuringCapture('linux', '6.1.0')).toBe(true);
    expect(overlayHiddenDuringCapture('darwin', '24.1.0')).toBe(true);
    expect(overlayHiddenDuringCapture('win32', '10.0.18363')).toBe(true);
    expect(overlayHiddenDuringCapture('win32', '10.0.19041')).toBe(false);
    expect(overlayHiddenDuringCapture('win32', '10.0.22631')).toBe(false);
  });

  test('an unsupported OS is one line', () => {
    expect(() => new DesktopOperator({ platform: 'freebsd' })).toThrow('Kestrel controls Linux (X11), Windows and macOS desktops, not freebsd');
    expect(new DesktopUnavailableError('x', 'unsupported').code).toBe('unsupported');
  });
});

export type { DisplayInfo };
