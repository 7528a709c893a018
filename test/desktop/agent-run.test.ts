import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { artifactPath } from '../harness/artifacts.ts';
import { KESTREL_BIN, REPO_ROOT, runKestrel, startKestrel, withoutLoadProgress } from '../harness/cli.ts';
import { startOpenAIServer, type OpenAITestServer } from '../harness/openai-server.ts';
import { spawnTracked, waitFor } from '../harness/processes.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';
import { startVirtualDisplay, type VirtualDisplay } from '../harness/xvfb.ts';
import { startCatTerminal, type CatTerminal } from '../harness/xterm.ts';

const WIDTH = 1024;
const HEIGHT = 768;
let screen: VirtualDisplay;
let work: string;
let server: OpenAITestServer | undefined;

beforeAll(async () => {
  screen = await startVirtualDisplay({ width: WIDTH, height: HEIGHT });
  work = mkdtempSync(join(tmpdir(), 'kestrel-run-'));
});

afterAll(async () => {
  await server?.stop();
  await screen?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const reply = (action: string, code: string): string => `## Action:\n${action}\n## Code:\n\`\`\`python\n${code}\n\`\`\``;

test('kestrel run clicks into a real xterm, types ASCII and non-ASCII text, presses Enter and finishes', async () => {
  const term: CatTerminal = await startCatTerminal(screen, { title: 'kestrel-cat', geometry: '70x12+300+200' });
  try {
    const cx = (term.window.x + term.window.width / 2) / WIDTH;
    const cy = (term.window.y + term.window.height / 2) / HEIGHT;
    const ascii = `echo: "A&B" 'x' ~/path_1 (ok) {y} [z] <w> | 100% #2 $HOME`;
    const unicode = 'Grüße, 世界! ✓ — naïve café';
    server = await startOpenAIServer({
      replies: [
        reply('Click into the terminal to focus it.', `pyautogui.click(x=${cx.toFixed(4)}, y=${cy.toFixed(4)})`),
        reply('Type the first line.', `pyautogui.write(${JSON.stringify(ascii)})\npyautogui.press('enter')`),
        `◁think▷The first line is in. Now the greeting.◁/think▷${reply('Type the greeting and press Enter.', `pyautogui.write('${unicode}')\npyautogui.press("enter")`)}`,
        reply('Both lines are typed.', "computer.terminate(status='success', answer='typed')"),
      ],
    });
    // Something the person had on the clipboard before the run; it must be there after.
    execFileSync('xclip', ['-selection', 'clipboard', '-i'], { env: screen.env, input: "the person's clipboard", stdio: ['pipe', 'ignore', 'ignore'] });

    const record = join(work, 'traj');
    const kestrel = startKestrel(['run', 'type two lines into the terminal', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test', '--record', record], screen.env);
    const code = await kestrel.exited();
    expect(kestrel.stderr()).toBe('');
    expect(code).toBe(0);

    const bytes = await term.waitForBytes((b) => b.toString('utf8').split('\n').length === 3, 'both lines to arrive');
    expect(bytes.equals(Buffer.from(`${ascii}\n${unicode}\n`, 'utf8'))).toBe(true);
    const pointer = execFileSync('xdotool', ['getmouselocation', '--shell'], { env: screen.env }).toString();
    expect(pointer).toContain(`X=${Math.round(cx * WIDTH)}\n`);

    const clipboard = execFileSync('xclip', ['-selection', 'clipboard', '-o'], { env: screen.env }).toString();
    expect(clipboard).toBe("the person's clipboard");

    const lines = kestrel.stdout().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^run \S+: "type two lines into the terminal" with kimi-vl-test @ http:\/\/127\.0\.0\.1:\d+\/v1 on display screen \(1024×768\+0\+0\)$/);
    expect(lines[1]).toMatch(/^step 1: click at \d+,\d+ — Click into the terminal to focus it\. \(model \d+\.\d s\)$/);
    expect(lines[2]).toMatch(/^step 2: type "echo: .*"; press enter — Type the first line\./);
    expect(lines[3]).toMatch(/^step 3: type "Grüße, 世界! ✓ — naïve café"; press enter — Type the greeting/);
    expect(lines[4]).toMatch(/^step 4: done \(answer: "typed"\) — Both lines are typed\./);
    expect(lines[5]).toMatch(/^finished after 4 steps in \d+\.\d s: the model said the task is done$/);
    expect(lines[6]).toBe('answer: typed');
    expect(lines[7]).toBe(`trajectory: ${record}`);

    // Every request carried PNG screenshots of the whole virtual screen.
    const requests = server.chatRequests();
    expect(requests).toHaveLength(4);
    for (const request of requests) {
      expect(request.images.length).toBeGreaterThanOrEqual(1);
      for (const image of request.images) {
        expect(image.mimeType).toBe('image/png');
        const meta = await sharp(image.data).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['png', WIDTH, HEIGHT]);
      }
    }
    // The last screenshot shows the typed text on screen: keep it for people to look at.
    await sharp(requests[3]!.images.at(-1)!.data).toFile(artifactPath('desktop', 'agent-run-last-screenshot.png'));

    // The trajectory, in OSWorld's layout.
    const traj = readFileSync(join(record, 'traj.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(traj.map((l) => l.step_num)).toEqual([1, 2, 3, 4]);
    expect(traj.map((l) => l.done)).toEqual([false, false, false, true]);
    expect(traj[2].kestrel.thinking).toBe('The first line is in. Now the greeting.');
    expect(traj[2].kestrel.desktop_actions).toEqual([{ kind: 'type', text: unicode }, { kind: 'press', key: 'enter', presses: 1 }]);
    const pngs = readdirSync(record).filter((f) => f.endsWith('.png'));
    expect(pngs.filter((f) => /^step_\d+_\d{8}@\d{6}\.png$/.test(f))).toHaveLength(3);
    for (const file of pngs) {
      const meta = await sharp(join(record, file)).metadata();
      expect([meta.width, meta.height]).toEqual([WIDTH, HEIGHT]);
    }
    const run = JSON.parse(readFileSync(join(record, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ status: 'finished', steps: 4, answer: 'typed', instruction: 'type two lines into the terminal' });
  } finally {
    term.dispose();
    await server?.stop();
    server = undefined;
  }
});

test('Ctrl-C stops a run while the model is thinking: exit 130, trajectory closed as aborted', async () => {
  let asked = 0;
  server = await startOpenAIServer({ replies: [() => (asked++, { text: 'DONE', delayMs: 60_000 })] });
  const record = join(work, 'aborted');
  const kestrel = startKestrel(['run', 'wait forever', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test', '--record', record], screen.env);
  await waitFor('the model request', () => asked === 1, 30_000);
  const at = Date.now();
  kestrel.child.kill('SIGINT');
  expect(await kestrel.exited()).toBe(130);
  expect(Date.now() - at).toBeLessThan(3000);
  expect(kestrel.stdout()).toMatch(/^aborted after 0 steps in \d+\.\d s: stopped by the person$/m);
  expect(JSON.parse(readFileSync(join(record, 'run.json'), 'utf8'))).toMatchObject({ status: 'aborted', steps: 0 });
  await server.stop();
  server = undefined;
});

test('a hung server at --timeout 1 is given up on after three attempts (~3 s, not 3 × 3), in one message per retry', async () => {
  server = await startOpenAIServer({ replies: Array.from({ length: 9 }, () => ({ text: 'DONE', delayMs: 60_000 })) });
  const result = await runKestrel(['run', 'wait', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test', '--timeout', '1'], screen.env);
  const seconds = (Date.now() - server.chatRequests()[0]!.receivedAt) / 1000;
  expect(result.code).toBe(1);
  expect(server.chatRequests()).toHaveLength(3);
  // From the first request: 3 × 1 s of waiting and 0.5 + 1 s of back-off; nine attempts took over 9 s.
  // The client's timer starts before the server stamps the request's arrival, so allow 0.1 s less.
  expect(seconds).toBeGreaterThanOrEqual(4.4);
  expect(seconds).toBeLessThan(7.5);
  const endpoint = `${server.baseUrl}/chat/completions`;
  const timeout = `no complete reply from ${endpoint} within 1.0 s; the server may be overloaded, or raise the timeout`;
  expect(result.stderr).toBe(
    [
      `kestrel: step 1: the model request failed (attempt 1 of 3), trying again in 0.5 s: ${timeout}`,
      `kestrel: step 1: the model request failed (attempt 2 of 3), trying again in 1.0 s: ${timeout}`,
      '',
    ].join('\n'),
  );
  expect(result.stdout).toMatch(/^error after 0 steps in \d+\.\d s: no complete reply/m);
  expect(result.stdout).toContain(`: ${timeout} (gave up after 3 attempts)\n`);
  await server.stop();
  server = undefined;
});

test('a display that does not exist is one line naming the ones that do', async () => {
  server = await startOpenAIServer({ replies: [] });
  const kestrel = startKestrel(['run', 'x', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test', '--display', '3'], screen.env);
  expect(await kestrel.exited()).toBe(2);
  expect(kestrel.stderr()).toBe("kestrel: there is no display '3'; choose one of: 0 (screen 1024×768+0+0, primary)\n");
  await server.stop();
  server = undefined;
});

test('--confirm shows each step and acts only on yes; a no ends the run with exit 5', async () => {
  const term = await startCatTerminal(screen, { title: 'kestrel-confirm', geometry: '40x5+100+500' });
  try {
    const cx = (term.window.x + term.window.width / 2) / WIDTH;
    const cy = (term.window.y + term.window.height / 2) / HEIGHT;
    server = await startOpenAIServer({
      replies: [
        reply('Focus the terminal.', `pyautogui.click(x=${cx.toFixed(4)}, y=${cy.toFixed(4)})`),
        reply('Type a word.', "pyautogui.write('approved')\npyautogui.press('enter')"),
        reply('Type another.', "pyautogui.write('declined')\npyautogui.press('enter')"),
      ],
    });
    const child = spawnTracked(process.execPath, [KESTREL_BIN, 'run', 'type words', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test', '--confirm'], {
      cwd: REPO_ROOT,
      env: screen.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', done));
    for (const answer of ['y', 'yes', 'n']) {
      const asked = (out.match(/run it\? \[y\/N\]/g) ?? []).length;
      await waitFor('the next question', () => (out.match(/run it\? \[y\/N\]/g) ?? []).length > asked, 30_000);
      child.stdin!.write(`${answer}\n`);
    }
    expect(await exited).toBe(5);
    expect(out).toMatch(/^step 3 plans: type "declined"; press enter — run it\? \[y\/N\] $/m);
    expect(out).toMatch(/^aborted after 2 steps in \d+\.\d s: step 3 was declined$/m);
    await term.waitForBytes((b) => b.toString() === 'approved\n', 'the approved line');
    await new Promise((done) => setTimeout(done, 300));
    expect(term.received().toString()).toBe('approved\n');
  } finally {
    term.dispose();
    await server?.stop();
    server = undefined;
  }
});

test('kestrel run --model-dir drives the loop with the in-process model (random weights: corrected once, then an error)', async () => {
  const ckpt = tinyCheckpoint({ seed: 9 });
  const out = tempDir('run-model');
  try {
    const model = join(out.dir, 'm');
    expect((await runKestrel(['model', 'import', ckpt.dir, '--out', model, '--device', 'cpu'])).code).toBe(0);
    const result = await runKestrel(['run', 'open the terminal', '--model-dir', model, '--max-tokens', '8', '--device', 'cpu'], screen.env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^run \S+: "open the terminal" with kimi-vl \(in-process, fp32\) @ .* on display screen \(1024×768\+0\+0\)$/m);
    expect(result.stdout).toMatch(/^error after 0 steps in \d+\.\d s: the model's reply could not be used after a correction: /m);
    expect(withoutLoadProgress(result.stderr)).toMatch(/^kestrel: step 1: the reply could not be used, asking again: /);
    // The model's load progress came first, on stderr; stdout is the run's own lines.
    expect(result.stderr).toMatch(/^loading weights +0% .*\n(.*\n)*model loaded in [\d.]+ s\n/);
    expect(result.stdout).not.toMatch(/loading|loaded/);
  } finally {
    ckpt.cleanup();
    out.cleanup();
  }
});
