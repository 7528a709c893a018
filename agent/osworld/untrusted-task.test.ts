import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { displayCommand } from './host.ts';
import { exampleDir } from './results.ts';
import { ConsentRequiredError, formatConsentList, prepareTask, runOsworldTask } from './run-task.ts';
import { parseOsworldTask, TaskFormatError, type OsworldTask } from './task.ts';
import { recordingHost } from './testing.ts';

// Task files are untrusted: these tests play the attacker who wrote one.

const screen = { width: 1280, height: 800 };
const out = (): string => mkdtempSync(join(tmpdir(), 'kestrel-untrusted-'));
const task = (fields: Record<string, unknown>): OsworldTask =>
  parseOsworldTask({ id: 't1', instruction: 'x', config: [], evaluator: { func: 'infeasible' }, ...fields }, '/tasks/t1.json', 'test');
const pyautogui = (code: string) => ({ type: 'execute', parameters: { command: ['python', '-c', `import pyautogui; import time; ${code}`] } });

describe('consent covers everything that reaches the keyboard, the mouse, programs or windows', () => {
  test('a set-up snippet that types is listed and nothing is typed without consent', async () => {
    const host = recordingHost();
    const typing = task({ config: [pyautogui("pyautogui.write('touch /tmp/pwned\\n')")] });
    const run = runOsworldTask({ task: typing, host, screen, allowExec: false, out: out(), act: async () => ({ endedWithFail: true }) });
    const error = (await run.catch((e: unknown) => e)) as ConsentRequiredError;
    expect(error).toBeInstanceOf(ConsentRequiredError);
    expect(error.items).toEqual(["keyboard and mouse: pyautogui.write('touch /tmp/pwned\\n')"]);
    expect(host.calls).toEqual([]);

    const allowed = recordingHost();
    await runOsworldTask({ task: typing, host: allowed, screen, allowExec: true, out: out(), act: async () => ({ endedWithFail: true }) });
    expect(allowed.calls).toEqual(["pyautogui pyautogui.write('touch /tmp/pwned\\n')"]);
  });

  test('postconfig input, open and close_window need consent; sleeping and raising a window do not', () => {
    const consent = (config: unknown[], postconfig: unknown[] = []) =>
      prepareTask(task({ config, evaluator: { func: 'infeasible', postconfig } }), { screen }).consent;
    expect(consent([], [pyautogui("pyautogui.hotkey('ctrl', 'alt', 't')")])).toEqual(["keyboard and mouse: pyautogui.hotkey('ctrl', 'alt', 't')"]);
    expect(consent([{ type: 'open', parameters: { path: '~/evil.desktop' } }])).toEqual(['xdg-open ~/evil.desktop']);
    expect(consent([{ type: 'close_window', parameters: { window_name: 'Untitled Document' } }])).toEqual(['close every window titled containing "Untitled Document"']);
    expect(consent([{ type: 'close_window', parameters: { window_name: 'gedit', strict: true, by_class: true } }])).toEqual(['close every window of class "gedit"']);
    expect(
      consent([
        { type: 'sleep', parameters: { seconds: 1 } },
        { type: 'activate_window', parameters: { window_name: 'x' } },
        pyautogui('time.sleep(0.5)'),
      ]),
    ).toEqual([]);
  });
});

describe('one formatter shows every consent item exactly, on one line', () => {
  test('a line break cannot pass for a comment: the command shows as the sh -c it runs', () => {
    const hidden = task({ config: [{ type: 'execute', parameters: { command: 'echo harmless # \ntouch X', shell: true } }] });
    const consent = prepareTask(hidden, { screen }).consent;
    expect(consent).toEqual(["sh -c $'echo harmless # \\ntouch X'"]);
    const message = new ConsentRequiredError('t1', consent).message;
    expect(message).toContain("[1] sh -c $'echo harmless # \\ntouch X'");
    expect(message).not.toMatch(/[\n\r]/);
    expect(formatConsentList(['a', 'b'])).toBe('[1] a [2] b');
  });

  test('control and invisible characters are escaped, and bash reads the shown line back to the same words', () => {
    const argv = ['printf', '%s', "line\nbreak\ttab\r\x1b[2Jesc \u202egnp.exe quote' back\\slash \u200bzero \u{e0041}tag"];
    const shown = displayCommand({ argv });
    expect(shown).toBe("printf %s $'line\\nbreak\\ttab\\r\\x1b[2Jesc \\u202egnp.exe quote\\' back\\\\slash \\u200bzero \\U000e0041tag'");
    expect(shown).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    // The listing is exact: the shell turns it back into the very argument the task holds.
    const words = execFileSync('bash', ['-c', `for w in ${shown.slice('printf %s '.length)}; do printf '%s' "$w"; done`]).toString();
    expect(words).toBe(argv[2]);
    expect(displayCommand({ shell: 'ls -l | wc -l' })).toBe('ls -l | wc -l');
    expect(displayCommand({ argv: ['touch', 'a b'] })).toBe("touch 'a b'");
  });

  test('unsupported reasons and warnings are one line too, and name their step', () => {
    const prepared = prepareTask(
      task({
        config: [
          { type: 'evil\ntype', parameters: {} },
          { type: 'download', parameters: { files: [{ url: 'file://remote-host/etc/passwd', path: '~/x' }] } },
          { type: 'download', parameters: { files: [{ url: 'file:///a%2Fb', path: '~/x' }] } },
          { type: 'execute', parameters: { command: "echo 'unbalanced\n" } },
        ],
      }),
      { screen },
    );
    expect(prepared.unsupported).toHaveLength(4);
    for (const reason of prepared.unsupported) expect(reason).not.toMatch(/[\n\r]/);
    expect(prepared.unsupported[0]).toBe('config[0] evil\\ntype: step type "evil\\ntype" is not supported on a local desktop');
    expect(prepared.unsupported[1]).toMatch(/^config\[1\] download: file:\/\/remote-host\/etc\/passwd is not a usable file:\/\/ URL \(.+\)$/);
    expect(prepared.unsupported[2]).toMatch(/^config\[2\] download: file:\/\/\/a%2Fb is not a usable file:\/\/ URL \(.+\)$/);
    expect(prepared.unsupported[3]).toMatch(/^config\[3\] execute: unbalanced ' in command/);
  });
});

describe('ids, snapshots and domains name one results folder and nothing else', () => {
  test.each([
    [{ id: '..' }, 'id ".." is only dots'],
    [{ id: '.' }, 'id "." is only dots'],
    [{ id: 'a/b' }, `id "a/b" may hold only letters, digits, '_', '-' and '.'`],
    [{ id: 'a\\b' }, 'id "a\\\\b" may hold only'],
    [{ id: 'NUL' }, 'id "NUL" is a device name on Windows'],
    [{ id: 'x'.repeat(201) }, 'characters long (at most 200)'],
    [{ snapshot: '..' }, 'snapshot ".." is only dots'],
    [{ snapshot: '../../etc' }, 'snapshot "../../etc" may hold only'],
    [{ related_apps: ['..'] }, 'related_apps[0] (the domain when there is no snapshot) ".." is only dots'],
  ])('%j is refused in one line', (fields, message) => {
    const json = { id: 't1', instruction: 'x', evaluator: { func: 'infeasible' }, ...fields };
    expect(() => parseOsworldTask(json, 'task.json')).toThrow(TaskFormatError);
    expect(() => parseOsworldTask(json, 'task.json')).toThrow(message);
    expect(() => parseOsworldTask(json, 'task.json')).toThrow(/^task\.json: [^\n]+; it names a results folder, so it must be one plain folder name$/);
  });

  test('a domain given from outside (folder name, --domain) is checked the same way', () => {
    expect(() => parseOsworldTask({ id: 't1', instruction: 'x', evaluator: { func: 'infeasible' } }, 'task.json', '..')).toThrow('domain ".." is only dots');
    expect(parseOsworldTask({ id: 't1', instruction: 'x', snapshot: 'chrome', evaluator: { func: 'infeasible' } }, 'task.json').domain).toBe('chrome');
  });

  test('nothing is written outside the results folder even when a task object is forged past the parser', async () => {
    const root = out();
    const inner = join(root, 'results');
    const forged = { ...task({}), id: '..', domain: '..' } as OsworldTask;
    expect(() => exampleDir(inner, forged)).toThrow('task domain ".." is only dots');
    await expect(runOsworldTask({ task: forged, host: recordingHost(), screen, allowExec: true, out: inner, act: async () => ({ endedWithFail: true }) })).rejects.toThrow(
      TaskFormatError,
    );
    expect(readdirSync(root)).toEqual([]);
    expect(existsSync(inner)).toBe(false);
  });
});

/** Every name an object inherits from Object.prototype: a plain-object table would "find" each. */
const INHERITED = Object.getOwnPropertyNames(Object.prototype);

describe('names from a task file are looked up in own keys only', () => {
  test('the inherited names include the ones an attacker would try', () => {
    expect(INHERITED).toEqual(expect.arrayContaining(['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty']));
  });

  test.each(INHERITED)('%s is no step type, getter or metric: the task is unsupported, never run or scored', (name) => {
    const prepared = prepareTask(
      task({
        config: [{ type: name, parameters: {} }],
        evaluator: {
          func: [name, 'exact_match'],
          result: [{ type: name }, { type: 'rule', rules: 'x' }],
          expected: [null, { type: name }],
          postconfig: [{ type: name, parameters: {} }],
        },
      }),
      { screen },
    );
    expect(prepared.unsupported).toEqual([
      `config[0] ${name}: step type "${name}" is not supported on a local desktop`,
      `postconfig[0] ${name}: step type "${name}" is not supported on a local desktop`,
      `evaluator.func[0]: metric "${name}" is not supported`,
      `evaluator.func[0] result: getter "${name}" is not supported on a local desktop`,
      `evaluator.func[1] expected: getter "${name}" is not supported on a local desktop`,
    ]);
    const single = prepareTask(task({ evaluator: { func: name, result: { type: 'rule', rules: 1 } } }), { screen });
    expect(single.unsupported).toEqual([`evaluator.func: metric "${name}" is not supported`]);
  });

  /** Scores a task that has only this evaluator, after a run that did not end with fail. */
  const scoreOf = (evaluator: Record<string, unknown>) =>
    runOsworldTask({ task: task({ evaluator }), host: recordingHost(), screen, allowExec: false, out: out(), act: async () => ({ endedWithFail: false }) });

  test('options and rules read only what the task set, never what objects inherit', async () => {
    const literal = (options: string) =>
      scoreOf({ func: 'literal_match', result: { type: 'rule', rules: 'A' }, expected: { type: 'rule', rules: 'a' }, options: JSON.parse(options) });
    expect(await literal('{"ignore_case": true}')).toMatchObject({ score: 1 });
    expect(await literal('{"__proto__": {"ignore_case": true}}')).toMatchObject({ score: 0 });
  });

  test('an inherited name is not "in" a result object', async () => {
    const score = (include: string) =>
      scoreOf({ func: 'check_include_exclude', result: { type: 'rule', rules: { real: 1 } }, expected: { type: 'rule', rules: { include: [include] } } });
    expect(await score('real')).toMatchObject({ score: 1 });
    for (const name of INHERITED) expect(await score(name)).toMatchObject({ score: 0 });
  });
});
