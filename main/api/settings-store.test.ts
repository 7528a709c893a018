import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { NO_SECRET_BOX, type SecretBox } from './secrets.ts';
import { DEFAULT_SETTINGS, settingsFromStored } from './settings.ts';
import { SettingsStore } from './settings-store.ts';

const tempDir = () => mkdtemp(join(tmpdir(), 'kestrel-settings-'));

/** A reversible stand-in for the OS keychain that still never writes the key as it is. */
const rot13Box: SecretBox = {
  isAvailable: () => true,
  encrypt: (plain) => new TextEncoder().encode([...plain].reverse().join('')),
  decrypt: (sealed) => [...new TextDecoder().decode(sealed)].reverse().join(''),
};

describe('SettingsStore', () => {
  test('starts from the defaults and persists updates', async () => {
    const file = join(await tempDir(), 'nested', 'settings.json');
    const store = await SettingsStore.open(file, NO_SECRET_BOX, {});
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
    await store.update({ maxSteps: 7, variant: 'thinking' });
    const again = await SettingsStore.open(file, NO_SECRET_BOX, {});
    expect(again.get()).toMatchObject({ maxSteps: 7, variant: 'thinking', temperature: 0 });
  });

  test('the device is auto unless chosen; an earlier cpu, cuda or webgpu choice is kept, anything else refused', async () => {
    expect(DEFAULT_SETTINGS.device).toBe('auto');
    for (const device of ['cpu', 'cuda', 'webgpu', 'auto']) expect(settingsFromStored({ device })).toEqual({ settings: { ...DEFAULT_SETTINGS, device }, problems: [] });
    const bad = settingsFromStored({ device: 'tpu' });
    expect(bad.settings.device).toBe('auto');
    expect(bad.problems).toEqual(['The saved Device (device in the settings file) must be one of "auto", "cpu", "cuda", "webgpu", got "tpu"; the default is used until you save another']);
  });

  test('a broken file falls back to defaults and says why', async () => {
    const dir = await tempDir();
    const file = join(dir, 'settings.json');
    await writeFile(file, '{"maxSteps": 9, "temperature": "hot"');
    const store = await SettingsStore.open(file, NO_SECRET_BOX, {});
    expect(store.get()).toEqual(DEFAULT_SETTINGS);
    expect(store.problems[0]).toMatch(/could not be read/);
    await writeFile(file, JSON.stringify({ maxSteps: 9, temperature: 'hot' }));
    const partly = await SettingsStore.open(file, NO_SECRET_BOX, {});
    expect(partly.get().maxSteps).toBe(9);
    expect(partly.problems).toEqual(['The saved Temperature (temperature in the settings file) must be a number from 0 to 2, got "hot"; the default is used until you save another']);
  });

  test('API keys are sealed by the SecretBox and never written in plain text', async () => {
    const file = join(await tempDir(), 'settings.json');
    const store = await SettingsStore.open(file, rot13Box, {});
    await store.setApiKey('sk-very-secret-123');
    expect(await readFile(file, 'utf8')).not.toContain('sk-very-secret-123');
    const again = await SettingsStore.open(file, rot13Box, {});
    expect(again.apiKey()).toBe('sk-very-secret-123');
    expect(again.view()).toMatchObject({ apiKey: 'stored', canStoreApiKey: true });
    expect(JSON.stringify(again.view())).not.toContain('secret');
  });

  test('without a keychain the key is refused and taken from the named environment variable', async () => {
    const file = join(await tempDir(), 'settings.json');
    const store = await SettingsStore.open(file, NO_SECRET_BOX, { ...process.env, MY_KEY: 'from-env' });
    await expect(store.setApiKey('sk-plain')).rejects.toThrow(/no keychain.*environment variable KESTREL_API_KEY/);
    expect(store.apiKey()).toBeUndefined();
    await store.update({ apiKeyEnv: 'MY_KEY' });
    expect(store.apiKey()).toBe('from-env');
    expect(store.view().apiKey).toBe('environment');
    // A name is looked up in the environment's own keys: Object's members are not keys.
    await store.update({ apiKeyEnv: 'constructor' });
    expect(store.apiKey()).toBeUndefined();
    expect(store.apiKeySource()).toBe('no key: constructor is not set');
  });

  test('command-line values apply to this session only: in effect, shown as such, never written', async () => {
    const file = join(await tempDir(), 'settings.json');
    const first = await SettingsStore.open(file, NO_SECRET_BOX, {});
    await first.update({ endpointUrl: 'http://saved:8000/v1', maxSteps: 9 });
    const store = await SettingsStore.open(file, NO_SECRET_BOX, {});
    store.setSessionValues({ endpointUrl: 'http://gpu-box:8000/v1', endpointModel: 'kimi-vl' });
    expect(store.get()).toMatchObject({ endpointUrl: 'http://gpu-box:8000/v1', endpointModel: 'kimi-vl', maxSteps: 9 });
    expect(store.view()).toMatchObject({
      settings: { endpointUrl: 'http://gpu-box:8000/v1' },
      saved: { endpointUrl: 'http://saved:8000/v1', endpointModel: DEFAULT_SETTINGS.endpointModel },
      sessionOnly: ['endpointUrl', 'endpointModel'],
    });
    // Saving another field writes the saved values only.
    await store.update({ temperature: 0.5 });
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ endpointUrl: 'http://saved:8000/v1', endpointModel: DEFAULT_SETTINGS.endpointModel, temperature: 0.5 });
    expect(store.get().endpointUrl).toBe('http://gpu-box:8000/v1');
    // Saving a field the command line set: the person's choice is saved and wins from now on.
    await store.update({ endpointModel: 'chosen' });
    expect(store.view().sessionOnly).toEqual(['endpointUrl']);
    expect(JSON.parse(await readFile(file, 'utf8')).endpointModel).toBe('chosen');
    // The next session, without the options, starts from what was saved.
    expect((await SettingsStore.open(file, NO_SECRET_BOX, {})).get()).toMatchObject({ endpointUrl: 'http://saved:8000/v1', endpointModel: 'chosen', maxSteps: 9 });
  });

  test('concurrent updates are queued, not interleaved', async () => {
    const file = join(await tempDir(), 'settings.json');
    const store = await SettingsStore.open(file, NO_SECRET_BOX, {});
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.update({ maxSteps: i + 1 })));
    expect(JSON.parse(await readFile(file, 'utf8')).maxSteps).toBe(20);
  });

  test('a writer killed mid-write leaves a readable, valid file every time', { timeout: 60_000 }, async () => {
    const dir = await tempDir();
    const file = join(dir, 'settings.json');
    const writer = resolve(import.meta.dirname, 'testing/settings-writer.ts');
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', writer, file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      // Let it get going (it has written at least 40 times), then kill it at a random moment.
      while (!/^40$/m.test(out)) {
        if (child.exitCode !== null) throw new Error(`the writer exited: ${err}`);
        await new Promise((done) => setTimeout(done, 10));
      }
      await new Promise((done) => setTimeout(done, Math.random() * 150));
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGKILL');
      await exited;
      const text = await readFile(file, 'utf8');
      const { settings, problems } = settingsFromStored(JSON.parse(text));
      expect(problems).toEqual([]);
      expect(settings.trajectoriesDir).toMatch(/^\/runs\/\d+\//);
    }
    // Reopening cleans up the temporary files the killed writers left behind.
    await SettingsStore.open(file, NO_SECRET_BOX, {});
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
