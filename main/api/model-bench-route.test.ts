import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { testHostOptions } from '../../test/harness/test-host.ts';
import { createHost } from './host.ts';
import type { BenchReport } from './types.ts';

// models.bench as the UI's socket reaches it, against the real settings store and model list;
// the benchmark itself is the host's seam (test/browser/model-bench.test.ts runs the real one).

const report = (dir: string): BenchReport => ({
  machine: { platform: 'linux', cpus: 2, memoryBytes: 1, loadAverage: [0, 0, 0] },
  repetitions: 1,
  promptTokens: 512,
  decodeTokens: 32,
  image: { width: 1920, height: 1080 },
  results: [{ model: dir, precision: 'fp32', weightBytes: 1, device: 'cpu', deviceLabel: 'cpu', tests: [] }],
});

test('models.bench benchmarks only a listed model, on the device asked or Settings\' device, one benchmark at a time and no run during one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kestrel-api-bench-'));
  const model = join(dir, 'models', 'kimi');
  await mkdir(model, { recursive: true });
  await writeFile(join(model, 'kestrel-model.json'), '{}');
  await writeFile(join(dir, 'elsewhere.json'), '{}');
  const calls: unknown[][] = [];
  let finish = (): void => undefined;
  const { api } = await createHost(
    testHostOptions(dir, {
      bench: (path, device, repetitions) => {
        calls.push([path, device, repetitions]);
        return new Promise((resolve) => (finish = () => resolve(report(path))));
      },
    }),
  );

  await expect(api.call('models.bench', { path: dir })).rejects.toThrow(`${dir} is not one of the imported models; list them again`);
  await expect(api.call('models.bench', { path: join(model, '..', '..') })).rejects.toThrow(/is not one of the imported models/);
  expect(calls).toEqual([]);

  const first = api.call('models.bench', { path: model });
  await expect.poll(() => calls.length).toBe(1);
  await expect(api.call('models.bench', { path: model, device: 'cpu' })).rejects.toThrow('a benchmark is already running; wait for its table');
  await expect(api.call('run.start', { instruction: 'open the editor' })).rejects.toThrow('a model benchmark is running; start the run when its table is shown');
  finish();
  expect(await first).toEqual(report(model));
  // Settings' device (auto by default) and three repetitions, unless the call says otherwise.
  expect(calls).toEqual([[model, 'auto', 3]]);

  const second = api.call('models.bench', { path: model, device: 'cpu', repetitions: 2 });
  await expect.poll(() => calls.length).toBe(2);
  finish();
  await second;
  expect(calls[1]).toEqual([model, 'cpu', 2]);
});
