import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ConsentRequiredError, prepareTask, runOsworldTask } from './run-task.ts';
import { loadOsworldTasks, parseOsworldTask, type OsworldTask } from './task.ts';
import { recordingHost } from './testing.ts';

const SAMPLES = resolve(import.meta.dirname, '../../test/fixtures/osworld/os');
const sample = async (prefix: string): Promise<OsworldTask> =>
  (await loadOsworldTasks(SAMPLES)).find((t) => t.id.startsWith(prefix))!;
const screen = { width: 1280, height: 800 };
const out = (): string => mkdtempSync(join(tmpdir(), 'kestrel-results-'));
const task = (evaluator: unknown, config: unknown[] = []): OsworldTask =>
  parseOsworldTask({ id: 'synthetic', instruction: 'x', config, evaluator }, join(SAMPLES, 'synthetic.json'), 'test');

describe('running an OSWorld task locally', () => {
  test('without --allow-exec nothing runs and the error lists the exact commands (password hidden)', async () => {
    const host = recordingHost();
    let acted = false;
    const run = runOsworldTask({
      task: await sample('e0df'),
      host,
      screen,
      clientPassword: 'hunter2',
      allowExec: false,
      out: out(),
      act: async () => ((acted = true), { endedWithFail: false }),
    });
    await expect(run).rejects.toThrow(ConsentRequiredError);
    const error = (await run.catch((e: unknown) => e)) as ConsentRequiredError;
    expect(error.items).toEqual([
      'echo {CLIENT_PASSWORD} | sudo -S mkdir ~/Desktop/todo_list_Jan_1',
      'keyboard and mouse: pyautogui.click(640, 400); time.sleep(0.5)',
      "[ -d ~/Desktop/todo_list_Jan_2 ] && echo 'Directory exists.' || echo 'Directory does not exist.'",
    ]);
    expect(error.message).toContain('re-run with --allow-exec');
    expect(error.message).toContain('[1] echo {CLIENT_PASSWORD} | sudo -S mkdir ~/Desktop/todo_list_Jan_1');
    expect(error.message).not.toContain('hunter2');
    expect(host.calls).toEqual([]);
    expect(acted).toBe(false);
  });

  test('with consent: set-up runs (pyautogui through Kestrel, placeholders filled), then the evaluator scores 1', async () => {
    const host = recordingHost((cmd) => (cmd.startsWith('[ -d') ? { stdout: 'Directory exists.\n' } : {}));
    const root = out();
    const result = await runOsworldTask({
      task: await sample('e0df'),
      host,
      screen,
      clientPassword: 'hunter2',
      allowExec: true,
      out: root,
      act: async () => {
        host.calls.push('act');
        return { endedWithFail: false };
      },
    });
    expect(host.calls).toEqual([
      'run echo hunter2 | sudo -S mkdir ~/Desktop/todo_list_Jan_1',
      'pyautogui pyautogui.click(640, 400)',
      'sleep 500',
      'act',
      "run [ -d ~/Desktop/todo_list_Jan_2 ] && echo 'Directory exists.' || echo 'Directory does not exist.'",
    ]);
    expect(result).toMatchObject({ status: 'scored', score: 1 });
    const dir = join(root, 'os', 'e0df059f-28a6-4169-924f-b9623e7184cc');
    expect(result.dir).toBe(dir);
    expect(readFileSync(join(dir, 'result.txt'), 'utf8')).toBe('1.0\n');
  });

  test('the same task scores 0 when the folder was not renamed, and 0 when the run ended with fail', async () => {
    const host = recordingHost((cmd) => (cmd.startsWith('[ -d') ? { stdout: 'Directory does not exist.\n' } : {}));
    const base = { task: await sample('e0df'), screen, clientPassword: 'x', allowExec: true };
    expect(await runOsworldTask({ ...base, host, out: out(), act: async () => ({ endedWithFail: false }) })).toMatchObject({ score: 0 });
    const yes = recordingHost(() => ({ stdout: 'Directory exists.\n' }));
    expect(await runOsworldTask({ ...base, host: yes, out: out(), act: async () => ({ endedWithFail: true }) })).toMatchObject({ score: 0 });
  });

  test('infeasible scores 1 only when the run ended with fail', async () => {
    const bluetooth = await sample('b3d4');
    const base = { task: bluetooth, host: recordingHost(), screen, allowExec: false };
    expect(await runOsworldTask({ ...base, out: out(), act: async () => ({ endedWithFail: true }) })).toMatchObject({ score: 1 });
    expect(await runOsworldTask({ ...base, out: out(), act: async () => ({ endedWithFail: false }) })).toMatchObject({ score: 0 });
  });

  test('an unsupported getter makes the task unsupported, named, with nothing run and no result.txt', async () => {
    const host = recordingHost();
    const root = out();
    const result = await runOsworldTask({
      task: await sample('1358'),
      host,
      screen,
      allowExec: true,
      out: root,
      act: async () => {
        throw new Error('must not act');
      },
    });
    expect(result.status).toBe('unsupported');
    expect(result.status === 'unsupported' && result.reasons).toEqual([
      'evaluator.func result: getter "vm_terminal_output" is not supported on a local desktop',
    ]);
    expect(host.calls).toEqual([]);
    const dir = join(root, 'os', '13584542-872b-42d8-b299-866967b5c3ef');
    expect(existsSync(join(dir, 'result.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'unsupported.txt'), 'utf8')).toContain('vm_terminal_output');
  });

  test('without the evaluator (replay only) an unsupported getter does not matter and no score is written', async () => {
    const host = recordingHost();
    const root = out();
    const result = await runOsworldTask({
      task: await sample('1358'),
      host,
      screen,
      allowExec: true,
      evaluate: false,
      out: root,
      act: async () => {
        host.calls.push('act');
        return { endedWithFail: false };
      },
    });
    expect(result.status).toBe('not_evaluated');
    expect(host.calls).toEqual(['pyautogui pyautogui.click(640, 400)', 'sleep 500', 'act']);
    expect(existsSync(join(root, 'os', '13584542-872b-42d8-b299-866967b5c3ef', 'result.txt'))).toBe(false);
  });

  test('unsupported steps, metrics and remote downloads are each reported by name', () => {
    const prepared = prepareTask(
      task(
        { func: ['exact_match', 'compare_pdfs'], result: [{ type: 'rule', rules: 1 }, { type: 'cloud_file', path: 'x' }], expected: [null, null] },
        [
          { type: 'chrome_open_tabs', parameters: { urls_to_open: ['https://x'] } },
          { type: 'download', parameters: { files: [{ url: 'https://example.com/a.docx', path: '~/a.docx' }] } },
          { type: 'execute', parameters: { command: 'ls', until: { returncode: 0 } } },
        ],
      ),
      { screen },
    );
    expect(prepared.unsupported).toEqual([
      'config[0] chrome_open_tabs: step type "chrome_open_tabs" is not supported on a local desktop',
      'config[1] download: download from https://example.com/a.docx (only local paths and file:// URLs are fetched)',
      'config[2] execute: "until" (retrying a command until its output matches) is not supported',
      'evaluator.func[1]: metric "compare_pdfs" is not supported',
      'evaluator.func[1] result: getter "cloud_file" is not supported on a local desktop',
    ]);
  });

  test('every supported set-up step does what it says', async () => {
    const home = out();
    const source = join(home, 'source.txt');
    writeFileSync(source, 'payload');
    const host = recordingHost(() => ({ exitCode: 3, stderr: 'boom\n' }), { home });
    const warnings: string[] = [];
    const result = await runOsworldTask({
      task: task({ func: 'infeasible' }, [
        { type: 'launch', parameters: { command: ['xterm', '-T', 'my term'] } },
        { type: 'command', parameters: { command: 'touch "a b"' } },
        { type: 'open', parameters: { path: '~/doc.txt' } },
        { type: 'activate_window', parameters: { window_name: 'my term', strict: true } },
        { type: 'close_window', parameters: { window_name: 'other' } },
        { type: 'sleep', parameters: { seconds: 0.25 } },
        { type: 'download', parameters: { files: [{ url: pathToFileURL(source).href, path: '~/in/copy.txt' }] } },
      ]),
      host,
      screen,
      allowExec: true,
      out: out(),
      act: async () => ({ endedWithFail: true }),
      onWarning: (w) => warnings.push(w),
    });
    expect(host.calls).toEqual([
      "launch xterm -T 'my term'",
      "run touch 'a b'",
      `open ${join(home, 'doc.txt')}`,
      'activate my term (strict)',
      'close other',
      'sleep 250',
    ]);
    expect(readFileSync(join(home, 'in', 'copy.txt'), 'utf8')).toBe('payload');
    expect(prepareTask(task({ func: 'infeasible' }, [{ type: 'download', parameters: { files: [{ url: pathToFileURL(source).href, path: '~/x' }] } }]), { screen }).consent).toEqual([
      `cp ${source} ~/x`,
    ]);
    expect(warnings).toEqual(['config[1] command exited with 3: boom']);
    expect(result).toMatchObject({ status: 'scored', score: 1 });
  });

  test('metric lists combine with conj "and" (all must pass) and "or" (any passes)', async () => {
    const rule = (value: unknown) => ({ type: 'rule', rules: value });
    const evaluator = (conj: 'and' | 'or', second: string) => ({
      func: ['exact_match', 'check_include_exclude'],
      conj,
      result: [rule('ok'), rule(second)],
      expected: [rule({ expected: 'ok' }), rule({ include: ['needle'], exclude: ['bad'] })],
    });
    const score = async (e: unknown) =>
      runOsworldTask({ task: task(e), host: recordingHost(), screen, allowExec: false, out: out(), act: async () => ({ endedWithFail: false }) });
    expect(await score(evaluator('and', 'a needle here'))).toMatchObject({ score: 1 });
    expect(await score(evaluator('and', 'a needle, bad'))).toMatchObject({ score: 0 });
    expect(await score(evaluator('or', 'a needle, bad'))).toMatchObject({ score: 1 });
    expect(await score({ ...evaluator('or', 'nothing'), result: [rule('no'), rule('nothing')] })).toMatchObject({ score: 0 });
  });

  test('postconfig runs before the getters; vm_file and compare_text_file read local files', async () => {
    const home = out();
    writeFileSync(join(home, 'expected.txt'), 'Hello  World\n');
    writeFileSync(join(home, 'actual.txt'), 'hello world');
    const host = recordingHost(() => ({}), { home });
    const result = await runOsworldTask({
      task: task({
        func: 'compare_text_file',
        postconfig: [{ type: 'sleep', parameters: { seconds: 1 } }],
        result: { type: 'vm_file', path: '~/actual.txt', dest: 'actual.txt' },
        expected: { type: 'vm_file', path: join(home, 'expected.txt'), dest: 'expected.txt' },
        options: { ignore_blanks: true, ignore_case: true },
      }),
      host,
      screen,
      allowExec: false,
      out: out(),
      act: async () => ({ endedWithFail: false }),
    });
    expect(host.calls).toEqual(['sleep 1000']);
    expect(result).toMatchObject({ score: 1 });
    const missing = await runOsworldTask({
      task: task({ func: 'compare_text_file', result: { type: 'vm_file', path: '~/none.txt', dest: 'n' }, expected: { type: 'vm_file', path: '~/actual.txt', dest: 'a' } }),
      host,
      screen,
      allowExec: false,
      out: out(),
      act: async () => ({ endedWithFail: false }),
    });
    expect(missing).toMatchObject({ score: 0 });
  });
});
