import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';
import { REPO_ROOT, runKestrel as kestrel, startKestrel, type CliProcess } from '../harness/cli.ts';

const execFileAsync = promisify(execFile);


describe('kestrel CLI skeleton', () => {
  test('npx kestrel --help lists every subcommand', async () => {
    const { stdout } = await execFileAsync('npx', ['--no-install', 'kestrel', '--help'], { cwd: REPO_ROOT });
    for (const command of ['run', 'ground', 'replay', 'eval', 'model', 'bench', 'serve', 'ui', 'app']) {
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  test.each([
    [['frobnicate'], "kestrel: unknown command 'frobnicate'"],
    [['ui', '--colour'], "kestrel: unknown option '--colour'"],
    [['ui', '--port', 'eighty'], 'port must be a number from 0 to 65535'],
    [['model', 'frob'], "kestrel: unknown command 'frob'"],
  ])('bad usage %j is one line on stderr and exit code 2', async (args, message) => {
    const result = await kestrel(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(message);
  });
});

describe('--help', () => {
  const commands = [[], ['run'], ['ground'], ['replay'], ['eval'], ['eval', 'screenspot'], ['eval', 'osworld'], ['model'], ['model', 'import'], ['model', 'logits'], ['model', 'info'], ['model', 'chat'], ['bench'], ['serve'], ['ui'], ['app']];

  test.each(commands.map((command) => [command.join(' '), command] as const))('kestrel %s --help shows examples and what each exit code means', async (_name, command) => {
    const result = await kestrel([...command, '--help']);
    expect(result.code).toBe(0);
    const examples = /\nExamples:\n((?: {2}\$ kestrel .+\n)+)/.exec(result.stdout);
    expect(examples?.[1]).toContain(`$ kestrel ${command.join(' ')}`.trimEnd());
    const codes = /\nExit codes:\n((?: {2}\d+ +\S.*\n)+)\s*$/.exec(result.stdout)?.[1];
    expect(codes).toMatch(/^ {2}0 /);
    expect(codes).toMatch(/^ {2}2 +usage/m);
  });

  test('required options show as required, in the usage line and their description', async () => {
    const result = await kestrel(['model', 'import', '--help']);
    expect(result.stdout).toMatch(/^Usage: kestrel model import --out <dir> \[options\] <hf-dir>$/m);
    expect(result.stdout).toMatch(/^ {2}--out <dir> +\(required\) where to write/m);
  });

  test('serve takes -p for the port, as ui and app do', async () => {
    const result = await kestrel(['serve', '--model-dir', 'm', '-p', '70000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('port must be a number from 0 to 65535');
  });

  test('help piped into a reader that has gone is not a crash', async () => {
    // `true` exits without reading: the help is written into a closed pipe (EPIPE).
    const { stderr } = await execFileAsync('bash', ['-c', `set -o pipefail; "${process.execPath}" bin/kestrel.js run --help | true`], { cwd: REPO_ROOT });
    expect(stderr).toBe('');
  });
});

describe('kestrel app', () => {
  let app: CliProcess | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  test('without a display it says so in one line and serves the UI for a browser', async () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    app = startKestrel(['app'], env);
    const [, url] = await app.waitForOutput(/^Kestrel UI: (http:\/\/127\.0\.0\.1:\d+\/\S*)$/m);
    const lines = app.stdout().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('Kestrel: there is no display (DISPLAY is not set; add --virtual to give the agent a private one), so the UI is served for a browser instead.');
    const page = await fetch(url!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Kestrel</title>');
    expect(app.stderr()).toBe('');
  });

  test('when the Electron binary cannot start it falls back without a stack trace', async () => {
    const env = { ...process.env, DISPLAY: ':999', ELECTRON_OVERRIDE_DIST_PATH: '/nonexistent/kestrel-electron' };
    app = startKestrel(['app'], env);
    await app.waitForOutput(/^Kestrel UI: http:\/\/127\.0\.0\.1:\d+\//m);
    expect(app.stdout()).toMatch(/^Kestrel: Electron could not be started \(.*ENOENT.*\), so the UI is served/m);
    expect(app.stderr()).not.toMatch(/\n\s+at /);
  });
});
