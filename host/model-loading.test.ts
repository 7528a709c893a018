import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ModelManifest } from '../native-models/index.ts';
import { importKimiVL } from '../native-models/runtime.ts';
import { writeTinyCheckpoint } from '../native-models/testing.ts';
import { encodePng, noise } from '../test/fixtures/images/png.ts';
import { testHostOptions } from '../test/harness/test-host.ts';
import { grounder, localModels } from './agent-bindings.ts';
import { createHost, type Host } from './host.ts';
import type { HostEvent, ModelLoad } from './types.ts';

// The host API end to end with the real in-process model: an Inspector probe loads it (progress
// to every window), the next probe reuses it (no loading at all).

let work: string;
let modelDir: string;
let manifest: ModelManifest;
let host: Host;
const png = new Uint8Array(encodePng({ width: 64, height: 48, colour: 'rgb', samples: noise(64 * 48 * 3, 7) }));

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kestrel-model-loading-'));
  writeTinyCheckpoint(join(work, 'ckpt'), { seed: 4 });
  modelDir = join(work, 'model');
  manifest = await importKimiVL({ source: join(work, 'ckpt'), out: modelDir });
  host = await createHost(testHostOptions(work, { ground: grounder, modelLoads: localModels }));
  await host.settings.update({ backend: 'in-process', modelDir, device: 'cpu' });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('loading the in-process model, as the windows see it', () => {
  test('the first probe sends loading events from 0 to the manifest weight bytes; the next probe sends none', async () => {
    const seen: ModelLoad[] = [];
    const off = host.api.subscribe((e: HostEvent) => e.type === 'model_load' && seen.push(e.load));
    try {
      expect(await host.api.call('models.loading', undefined)).toEqual({});
      const first = (await host.api.call('ground.image', { png, query: 'the Save button' })) as { raw: string };
      expect(first.raw.length).toBeGreaterThan(0);
      const total = manifest.text.weights.bytes + manifest.vision.weights.bytes;
      expect(seen.map((l) => l.phase).filter((p, i, all) => p !== all[i - 1])).toEqual(['weights', 'vision', 'weights', 'text', 'ready']);
      expect(seen[0]).toMatchObject({ dir: modelDir, device: 'cpu', done: 0, total, indeterminate: false });
      expect(seen.find((l) => l.phase === 'text')).toMatchObject({ done: total, indeterminate: true, detail: 'creating the language model session on the CPU' });
      expect(seen.at(-1)).toMatchObject({ phase: 'ready', done: total, total });
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done);
      // A window opened now learns the last load ended.
      expect(await host.api.call('models.loading', undefined)).toEqual({ load: seen.at(-1) });

      seen.length = 0;
      await host.api.call('ground.image', { png, query: 'the Open button' });
      expect(seen).toEqual([]);
    } finally {
      off();
    }
  });
});
