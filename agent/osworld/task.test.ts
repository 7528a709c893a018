import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadOsworldTasks, parseOsworldTask, TaskFormatError } from './task.ts';

const SAMPLES = resolve(import.meta.dirname, '../../test/fixtures/osworld/os');

describe('OSWorld task files', () => {
  test('the sample tasks load as they are, unknown fields kept, domain from the folder', async () => {
    const tasks = await loadOsworldTasks(resolve(SAMPLES, '..'));
    expect(tasks.map((t) => `${t.domain}/${t.id}`).sort()).toEqual([
      'local/kestrel-placeholders',
      'local/kestrel-rename-folder',
      'os/13584542-872b-42d8-b299-866967b5c3ef',
      'os/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa',
      'os/e0df059f-28a6-4169-924f-b9623e7184cc',
      'os/f9be0997-4b7c-45c5-b05c-4612b44a6118',
    ]);
    const rename = tasks.find((t) => t.id.startsWith('e0df'))!;
    expect(rename.domain).toBe('os');
    expect(rename.config.map((s) => s.type)).toEqual(['execute', 'execute']);
    expect(rename.evaluator.func).toBe('exact_match');
    expect(rename.relatedApps).toEqual(['os']);
    expect(rename.raw.possibility_of_env_change).toBe('low');
    expect(rename.raw.source).toBe('https://help.ubuntu.com/lts/ubuntu-help/files-rename.html.en');
    const terminal = tasks.find((t) => t.id.startsWith('1358'))!;
    expect(terminal.evaluator.postconfig?.map((s) => s.type)).toEqual(['sleep', 'execute']);
  });

  test('a single file takes its domain from --domain, else its snapshot', async () => {
    const [task] = await loadOsworldTasks(join(SAMPLES, 'b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa.json'));
    expect(task!.domain).toBe('os');
    const [other] = await loadOsworldTasks(join(SAMPLES, 'b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa.json'), 'mine');
    expect(other!.domain).toBe('mine');
  });

  const good = { id: 't1', instruction: 'do it', config: [], evaluator: { func: 'infeasible' } };
  test.each([
    [{ ...good, id: undefined }, 'has no "id"'],
    [{ ...good, id: '../../etc' }, 'may hold only letters, digits'],
    [{ ...good, instruction: ' ' }, 'has no "instruction"'],
    [{ ...good, config: {} }, 'config must be a list of steps'],
    [{ ...good, config: [{ parameters: {} }] }, 'config[0] needs a "type"'],
    [{ ...good, config: [{ type: 'sleep', parameters: 3 }] }, '"parameters" must be an object'],
    [{ ...good, evaluator: undefined }, 'needs an "evaluator" object'],
    [{ ...good, evaluator: { func: [] } }, 'evaluator.func must be a metric name'],
    [{ ...good, evaluator: { func: 'exact_match', conj: 'xor' } }, 'evaluator.conj must be "and" or "or"'],
    [{ ...good, evaluator: { func: ['a', 'b'], result: [{ type: 'rule' }] } }, 'evaluator.result must be a list of 2 getters'],
    [{ ...good, evaluator: { func: 'a', result: { path: 'x' } } }, 'evaluator.result must be a getter object with a "type"'],
    [{ ...good, evaluator: { func: ['a', 'b'], options: {} } }, 'evaluator.options must be a list of 2'],
  ])('%j is refused with a message saying what is wrong', (json, message) => {
    expect(() => parseOsworldTask(json, 'task.json')).toThrow(TaskFormatError);
    expect(() => parseOsworldTask(json, 'task.json')).toThrow(message);
  });

  test('missing paths, empty folders and broken JSON are named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-tasks-'));
    await expect(loadOsworldTasks(join(dir, 'nope.json'))).rejects.toThrow('nope.json does not exist');
    await expect(loadOsworldTasks(dir)).rejects.toThrow('holds no task .json files');
    mkdirSync(join(dir, 'chrome'));
    writeFileSync(join(dir, 'chrome', 'x.json'), '{"id": ');
    await expect(loadOsworldTasks(dir)).rejects.toThrow(/x\.json is not valid JSON/);
  });

  test('index files like test_all.json are not read as tasks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-tasks-'));
    mkdirSync(join(dir, 'examples', 'chrome'), { recursive: true });
    writeFileSync(join(dir, 'test_all.json'), JSON.stringify({ chrome: ['t1'] }));
    writeFileSync(join(dir, 'examples', 'chrome', 't1.json'), JSON.stringify(good));
    const tasks = await loadOsworldTasks(join(dir, 'examples'));
    expect(tasks.map((t) => [t.id, t.domain])).toEqual([['t1', 'chrome']]);
  });
});
