import { execFile } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { runKestrel, startKestrel, type CliProcess } from '../harness/cli.ts';
import { markProcesses, type ProcessMark } from '../harness/marked-processes.ts';
import { startOpenAIServer, type OpenAITestServer } from '../harness/openai-server.ts';
import { waitFor } from '../harness/processes.ts';
import { ensureSystemTools } from '../harness/system-tools.ts';

// `kestrel ui --virtual` as a person runs it: real processes (kestrel, Xvfb, openbox, the apps
// from --launch), real signals. Every process a command starts carries a marker in its
// environment, so the tests see exactly what a command left behind, orphans included.

const run = promisify(execFile);
let dirs: { config: string; data: string };

beforeAll(async () => {
  ensureSystemTools(['Xvfb', 'openbox', 'xterm', 'xprop', 'xwininfo']);
  dirs = { config: await mkdtemp(join(tmpdir(), 'kestrel-uiv-config-')), data: await mkdtemp(join(tmpdir(), 'kestrel-uiv-data-')) };
});

const hostEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, KESTREL_CONFIG_DIR: dirs.config, KESTREL_DATA_DIR: dirs.data, ...extra });

interface VirtualSession {
  readonly ui: CliProcess;
  readonly url: string;
  readonly display: string;
  readonly mark: ProcessMark;
}

/**
 * Runs `kestrel ui --virtual …` under a fresh process marker, waits for its URL and private
 * display, hands it to `body` (which ends it), and then checks that nothing it started is left.
 */
async function withVirtual(args: string[], body: (session: VirtualSession) => Promise<void>): Promise<void> {
  const mark = markProcesses(hostEnv());
  const ui = startKestrel(['ui', '--virtual', '--port', '0', ...args], mark.env);
  try {
    const url = (await ui.waitForOutput(/^Kestrel UI: (http:\/\/\S+)$/m, 60_000))[1]!;
    const display = (await ui.waitForOutput(/private display (:\d+)/))[1]!;
    await body({ ui, url, display, mark });
  } finally {
    await ui.stop();
  }
  await allGone(mark);
}

/**
 * Waits until nothing started under `mark` is left. The X server goes a moment after kestrel
 * itself (it must outlive kestrel's own X connection), hence the wait.
 */
async function allGone(mark: ProcessMark): Promise<void> {
  await waitFor('every process kestrel started to end', () => mark.alive().length === 0, 10_000).catch(() => undefined);
  expect(mark.alive()).toEqual([]);
}

/** The UI's socket as a client without a page opens it: the token from the printed URL. */
async function openSocket(url: string): Promise<WebSocket> {
  const { port, searchParams } = new URL(url);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${searchParams.get('token')}`);
  await new Promise((done, fail) => ws.once('open', done).once('error', fail));
  return ws;
}

/** Sends `signal` to kestrel itself (not its group) and returns its exit code. */
async function signalAndWait(ui: CliProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exited = ui.exited();
  process.kill(ui.child.pid!, signal);
  return exited;
}

describe('a busy port', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((done) => blocker.close(() => done())));

  test('exits 1 at once with its one line, and starts no display', async () => {
    const mark = markProcesses(hostEnv());
    const started = Date.now();
    const result = await runKestrel(['ui', '--virtual', '--port', String(port)], mark.env, 60_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`kestrel: port ${port} on 127.0.0.1 is already in use; choose another with --port\n`);
    expect(result.stdout).toBe('');
    await allGone(mark);
    // Before the fix it never exited (runKestrel's 60 s timeout would kill it).
    expect(Date.now() - started).toBeLessThan(45_000);
  });
});

describe('the private display', () => {
  let server: OpenAITestServer;
  beforeAll(async () => {
    server = await startOpenAIServer({ models: ['kimi-vl-test'] });
  });
  afterAll(() => server?.stop());

  test('has a window manager, opens the --launch apps in frames, and SIGTERM stops all of it', async () => {
    const launch = ['--launch', 'xterm -title kestrel-launch-one', '--launch', 'xterm -title kestrel-launch-two'];
    await withVirtual(launch, async ({ ui, display, mark }) => {
      // openbox announces itself on the root window (EWMH), which xdotool and wmctrl rely on.
      const { stdout: check } = await run('xprop', ['-display', display, '-root', '_NET_SUPPORTING_WM_CHECK']);
      const wmWindow = /window id # (0x[0-9a-f]+)/.exec(check)?.[1];
      expect(wmWindow).toBeDefined();
      const { stdout: name } = await run('xprop', ['-display', display, '-id', wmWindow!, '_NET_WM_NAME']);
      expect(name).toMatch(/"Openbox"/);
      for (const title of ['kestrel-launch-one', 'kestrel-launch-two']) {
        await waitFor(`${title} on ${display}`, () =>
          run('xwininfo', ['-display', display, '-name', title]).then((r) => r.stdout.includes('IsViewable'), () => false), 30_000, 100);
        // Framed: the window manager sets the frame extents it drew around the window.
        const { stdout: frame } = await run('xprop', ['-display', display, '-name', title, '_NET_FRAME_EXTENTS']);
        expect(frame).toMatch(/_NET_FRAME_EXTENTS\(CARDINAL\) = \d+, \d+, [1-9]\d*, \d+/);
      }
      expect(mark.alive().some((p) => p.includes('Xvfb'))).toBe(true);
      expect(await signalAndWait(ui, 'SIGTERM')).toBe(0);
    });
  });

  test('SIGINT during a run (the model still thinking) stops the run, openbox and Xvfb, and exits 0', async () => {
    server.push({ text: '## Action:\nwait\n## Code:\n```python\npyautogui.click(x=0.5, y=0.5)\n```', delayMs: 120_000 });
    await withVirtual(['--endpoint', server.baseUrl, '--model', 'kimi-vl-test'], async ({ ui, url }) => {
      const ws = await openSocket(url);
      ws.send(JSON.stringify({ id: 1, route: 'run.start', input: { instruction: 'click the middle' } }));
      await waitFor('the run to ask the model', () => server.chatRequests().length > 0, 60_000);
      expect(ui.stderr()).toBe('kestrel: --endpoint, --model apply to this session only; Settings keeps its saved values\n');
      expect(await signalAndWait(ui, 'SIGINT')).toBe(0);
    });
  });

  test('a second signal ends it at once, even while an app ignores SIGTERM, and still takes everything down', async () => {
    // An app that ignores SIGTERM holds the graceful stop for its grace period (3 s).
    await withVirtual(['--launch', "trap '' TERM; sleep 300"], async ({ ui, mark }) => {
      await waitFor('the stubborn app', () => mark.alive().some((p) => p.includes('sleep 300')), 10_000);
      const exited = ui.exited();
      process.kill(ui.child.pid!, 'SIGTERM');
      await new Promise((done) => setTimeout(done, 500));
      expect(ui.child.exitCode).toBeNull();
      process.kill(ui.child.pid!, 'SIGTERM');
      expect(await exited).toBe(143);
    });
  });

  test('an error part-way (openbox missing) is one line, exit 1, and the Xvfb it started is gone', async () => {
    // A PATH with Xvfb but no openbox: the failure comes after Xvfb is up.
    const bin = await mkdtemp(join(tmpdir(), 'kestrel-uiv-bin-'));
    const { stdout: xvfb } = await run('sh', ['-c', 'command -v Xvfb']);
    await symlink(xvfb.trim(), join(bin, 'Xvfb'));
    const mark = markProcesses(hostEnv({ PATH: bin }));
    const result = await runKestrel(['ui', '--virtual', '--port', '0'], mark.env, 60_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('kestrel: --virtual starts the openbox window manager, which is not installed; install it with: apt-get install openbox\n');
    await allGone(mark);
  });
});

test('--model-dir that is not a model is one line and exit 2, before anything listens', async () => {
  const notModel = await mkdtemp(join(tmpdir(), 'kestrel-uiv-notmodel-'));
  const result = await runKestrel(['ui', '--virtual', '--model-dir', notModel], hostEnv());
  expect(result.code).toBe(2);
  expect(result.stderr).toBe(`kestrel: --model-dir: ${notModel} has no kestrel-model.json, so it is not a model made by kestrel model import; give a folder made by kestrel model import (Settings → Models lists the imported ones)\n`);
  expect(result.stdout).toBe('');
});

test('--launch without --virtual is a usage error', async () => {
  const result = await runKestrel(['ui', '--launch', 'xterm'], hostEnv());
  expect(result.code).toBe(2);
  expect(result.stderr).toBe('kestrel: --launch opens apps on the private display that --virtual starts; add --virtual\n');
});

test('without a display, the UI host says to add --virtual, and so does every use of the desktop', async () => {
  const env = hostEnv();
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  const ui = startKestrel(['ui', '--port', '0'], env);
  try {
    const url = (await ui.waitForOutput(/^Kestrel UI: (http:\/\/\S+)$/m, 60_000))[1]!;
    await waitFor('the no-display note', () => ui.stderr().includes('--virtual'), 10_000);
    expect(ui.stderr()).toContain('kestrel: there is no display (DISPLAY is not set), so the agent has no screen to work on; add --virtual to give it a private one\n');
    const ws = await openSocket(url);
    const reply = new Promise<{ ok: boolean; error?: string }>((done) =>
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString()) as { id?: number; ok: boolean; error?: string };
        if (message.id === 1) done(message);
      }),
    );
    ws.send(JSON.stringify({ id: 1, route: 'displays.list' }));
    expect(await reply).toMatchObject({ ok: false, error: expect.stringContaining('restart with `kestrel ui --virtual` to give it a private one') });
    ws.close();
  } finally {
    await ui.stop();
  }
});
