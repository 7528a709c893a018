import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importKimiVL } from '../native-models/runtime.ts';
import { writeTinyCheckpoint } from '../native-models/testing.ts';
import { openModel } from './agent-bindings.ts';
import { NO_SECRET_BOX } from './secrets.ts';
import { SettingsStore } from './settings-store.ts';

let work: string;
let modelDir: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kestrel-bindings-'));
  const ckpt = join(work, 'ckpt');
  writeTinyCheckpoint(ckpt, { seed: 3 });
  modelDir = join(work, 'model');
  await importKimiVL({ source: ckpt, out: modelDir });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the in-process backend chosen in Settings', () => {
  test('loads on the device Settings name, and reuses the loaded model while nothing changes', async () => {
    const store = await SettingsStore.open(join(work, 'settings.json'), NO_SECRET_BOX, {});
    await store.update({ backend: 'in-process', modelDir, device: 'cpu' });
    const first = await openModel(store);
    expect(await openModel(store)).toBe(first);
    const reply = await first.generate({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 2 });
    expect(reply.finishReason).toMatch(/stop|length/);
  });

  test('a GPU device this machine lacks fails with the reason and the fix, not silently on CPU', async () => {
    const store = await SettingsStore.open(join(work, 'settings-cuda.json'), NO_SECRET_BOX, {});
    await store.update({ backend: 'in-process', modelDir, device: 'cuda' });
    await expect(openModel(store)).rejects.toThrow(/npm run gpu:cuda/);
  });
});
