import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, test } from 'vitest';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { startModuleWorker, withoutPreloads } from './weight-pool.ts';
import { defaultBundleCache, workerBundle } from './worker-bundle.ts';

const t = tempDir('worker-bundle');
afterAll(t.cleanup);

/** The first message of a worker, which then ends. */
async function firstMessage(worker: Worker): Promise<unknown> {
  const [message] = (await once(worker, 'message')) as [unknown];
  await worker.terminate();
  return message;
}

describe('TypeScript workers start from a cached bundle', () => {
  test('a worker module starts from its bundle in the cache; asked to, from the sources through tsx', async () => {
    const where = new URL('./testing/where-worker.ts', import.meta.url);
    const bundled = String(await firstMessage(await startModuleWorker(where, undefined)));
    expect(bundled).toMatch(/\.mjs:\d+:\d+$/);
    expect(bundled).toContain(pathToFileURL(defaultBundleCache()).href);
    const sources = String(await firstMessage(await startModuleWorker(where, undefined, { from: 'sources' })));
    expect(sources).toContain(`${fileURLToPath(where)}:`);
  });

  test("a bundled worker runs without the parent's preloads (run through tsx, each would load tsx again); other flags reach it", () => {
    // A process started as the CLI is (through tsx's --import), with a preload of its own that
    // marks each thread it runs in; the worker says which ran in its thread.
    const dir = join(t.dir, 'preloads');
    mkdirSync(dir, { recursive: true });
    const preload = join(dir, 'mark.mjs');
    writeFileSync(preload, "(globalThis.preloadsRan ??= []).push('mark');\n");
    const main = join(dir, 'main.mts');
    const worker = new URL('./testing/preloads-worker.ts', import.meta.url);
    writeFileSync(
      main,
      `import { once } from 'node:events';\nimport { startModuleWorker } from ${JSON.stringify(new URL('./weight-pool.ts', import.meta.url).href)};\n` +
        `const w = await startModuleWorker(new URL(${JSON.stringify(worker.href)}), undefined);\nconst [m] = await once(w, 'message');\nawait w.terminate();\nconsole.log(JSON.stringify(m));\n`,
    );
    const run = (...flags: string[]) => {
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(preload).href, ...flags, main], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
      expect(child.stderr).toBe('');
      return JSON.parse(child.stdout) as { ran: string[]; execArgv: string[] };
    };
    expect(run('--trace-warnings')).toEqual({ ran: [], execArgv: ['--trace-warnings'] });
    // A flag a worker may not be given (a heap limit): the worker inherits the flags, preloads
    // and all, and still starts from its bundle (stderr would hold the warning of a fallback).
    expect(run('--max-old-space-size=2048').ran).toEqual(['mark']);
  });

  test('withoutPreloads drops every form of a preload flag and keeps the rest', () => {
    expect(withoutPreloads(['--import', 'tsx', '--require=a.cjs', '-r', 'b.cjs', '--cpu-prof', '--loader', 'l.mjs', '--experimental-loader=m.mjs', '--max-old-space-size=512', '--import=file:///x.mjs'])).toEqual(['--cpu-prof', '--max-old-space-size=512']);
  });

  test("the importer's worker can be bundled: every file it loads is keyed, none uses import.meta", async () => {
    const entry = fileURLToPath(new URL('../models/kimi-vl/import/import-worker.ts', import.meta.url));
    const bundle = await workerBundle(entry);
    expect(bundle.inputs).toContain(entry);
    expect(bundle.inputs).toContain(fileURLToPath(new URL('../checkpoint/hf-checkpoint.ts', import.meta.url)));
    expect(bundle.inputs).toContain(fileURLToPath(new URL('../checkpoint/file-hash.ts', import.meta.url)));
  });

  test('a changed source is never run from the old bundle: the key is its bytes (not its time), and the list of files follows the imports', async () => {
    const dir = join(t.dir, 'stale');
    const cacheDir = join(t.dir, 'stale-cache');
    const entry = join(dir, 'entry.ts');
    const dep = join(dir, 'dep.ts');
    mkdirSync(dir);
    writeFileSync(entry, "import { parentPort } from 'node:worker_threads';\nimport { value } from './dep.ts';\nparentPort!.postMessage(value);\n");
    writeFileSync(dep, "export const value: string = 'one';\n");
    const run = async (): Promise<{ url: URL; built: boolean; says: unknown; inputs: readonly string[] }> => {
      const bundle = await workerBundle(entry, { cacheDir });
      return { ...bundle, says: await firstMessage(new Worker(bundle.url)) };
    };

    const first = await run();
    expect(first).toMatchObject({ built: true, says: 'one', inputs: [dep, entry] });
    const again = await run();
    expect(again).toMatchObject({ built: false, says: 'one' });
    expect(again.url.href).toBe(first.url.href);

    // Same length, same modification time: only the bytes differ.
    const { atime, mtime } = statSync(dep);
    writeFileSync(dep, "export const value: string = 'two';\n");
    utimesSync(dep, atime, mtime);
    const changed = await run();
    expect(changed).toMatchObject({ built: true, says: 'two' });
    expect(changed.url.href).not.toBe(first.url.href);

    // A new import joins the list of keyed files.
    writeFileSync(join(dir, 'extra.ts'), "export const extra: string = 'three';\n");
    writeFileSync(entry, "import { parentPort } from 'node:worker_threads';\nimport { value } from './dep.ts';\nimport { extra } from './extra.ts';\nparentPort!.postMessage(value + extra);\n");
    const grown = await run();
    expect(grown).toMatchObject({ built: true, says: 'twothree', inputs: [dep, entry, join(dir, 'extra.ts')] });
    writeFileSync(join(dir, 'extra.ts'), "export const extra: string = 'four';\n");
    expect(await run()).toMatchObject({ built: true, says: 'twofour' });

    // Older bundles of the entry are removed beyond the newest four.
    for (const value of ['five', 'six']) {
      writeFileSync(dep, `export const value: string = '${value}';\n`);
      await run();
    }
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.mjs'))).toHaveLength(4);
    expect(JSON.parse(readFileSync(join(cacheDir, readdirSync(cacheDir).find((f) => f.endsWith('.inputs.json'))!), 'utf8'))).toMatchObject({ entry });
  });

  test('an import that leaves out its extension is refused: a file added beside it could change its meaning unseen', async () => {
    const dir = join(t.dir, 'implied');
    mkdirSync(dir);
    writeFileSync(join(dir, 'dep.ts'), "export const value: string = 'one';\n");
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, "import { parentPort } from 'node:worker_threads';\nimport { value } from './dep';\nparentPort!.postMessage(value);\n");
    await expect(workerBundle(entry, { cacheDir: join(t.dir, 'implied-cache') })).rejects.toThrow(`${entry} imports './dep' without naming its file (extension included)`);
  });

  test('a module a bundle would change (it uses import.meta) starts from the sources, with a warning saying why', async () => {
    const dir = join(t.dir, 'meta');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n'); // as this repository's: tsx then loads ES modules
    const entry = join(dir, 'meta-worker.ts');
    writeFileSync(entry, "import { parentPort } from 'node:worker_threads';\nparentPort!.postMessage(new URL('.', import.meta.url).href);\n");
    await expect(workerBundle(entry, { cacheDir: join(t.dir, 'meta-cache') })).rejects.toThrow(`${entry} uses import.meta, which in a bundle names the bundle rather than the file`);
    const warned = once(process, 'warning') as Promise<[Error & { code?: string }]>;
    const says = await firstMessage(await startModuleWorker(pathToFileURL(entry), undefined));
    expect(says).toBe(pathToFileURL(`${dir}/`).href);
    const [warning] = await warned;
    expect(warning).toMatchObject({ code: 'KESTREL_WORKER_BUNDLE', message: expect.stringContaining(`${entry} starts from the sources, not a bundle (esbuild: ${entry} uses import.meta`) });
  });
});
