/**
 * One-file bundles of TypeScript worker modules, for Kestrel run from its sources (the CLI and
 * the tests run them through tsx). A worker gets neither the parent's loader nor its `--import`
 * flags, so a `.ts` worker would otherwise register tsx's loader itself and compile every module
 * it loads through it: about half a second of a core per worker, which an import's two workers
 * take from the conversion on a two-core machine. A bundle made once by esbuild (tsx's own
 * compiler) starts as a plain `.js` worker does.
 *
 * The bundles live in `node_modules/.cache/kestrel/worker-bundles/`, the usual home of a build
 * tool's cache (inside the checkout, so that a package a bundle leaves out resolves from the
 * project's node_modules as from the sources). Each is keyed by the bytes of every file it
 * bundles, so an edited source never runs from a stale bundle:
 *
 * - `<entry>-<recipe>.inputs.json` lists the files the last bundle of this entry was made from;
 * - `<entry>-<recipe>-<key>.mjs` is a bundle, `key` the SHA-256 of the recipe (esbuild's version
 *   and the options) and of each listed file's path and content.
 *
 * A start reads the list, hashes those files (a few hundred kB, about a millisecond) and takes
 * the bundle of that key if there is one. Otherwise it bundles: esbuild reads every file through
 * this module's loader, which hashes exactly the bytes esbuild compiles, and the bundle is stored
 * under the key of those bytes. Every relative import must name its file, extension included (as
 * Node's own ES module resolution wants), so unchanged sources have an unchanged import graph and
 * the list stays right for as long as the key matches; a changed file changes the key, and the next
 * bundle writes a new list. TypeScript's settings are given here (none, as tsx finds none in
 * the root tsconfig.json), so no tsconfig file changes a bundle unseen.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildFailure, BuildOptions, Loader, Plugin } from 'esbuild';
import { makeFolder, writeFileAtomic } from '../../shared/files.ts';

/** Raised when this way of making bundles changes in a way the options below do not show. */
const FORMAT = 1;
/** Bundles kept per entry (a few recent states of the sources, e.g. two branches in turn). */
const KEEP = 4;

const LOADERS: Readonly<Record<string, Loader>> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.json': 'json' };
/**
 * A bundled module's `import.meta.url` names the bundle in the cache, not its source file: a
 * module that uses it (to find a file beside itself) would look in the wrong place.
 */
const IMPORT_META = /\bimport\s*\.\s*meta\b/;

const BUILD_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: `node${process.versions.node.split('.')[0]}`,
  // npm packages stay imports, resolved from node_modules when the worker loads them.
  packages: 'external',
  tsconfigRaw: {},
  logLevel: 'silent',
} as const satisfies BuildOptions;

export interface WorkerBundle {
  /** The bundle to start the worker on. */
  readonly url: URL;
  /** Whether this call made it (else it was in the cache). */
  readonly built: boolean;
  /** Every file bundled, absolute paths. */
  readonly inputs: readonly string[];
}

const require = createRequire(import.meta.url);

/** The bundles' folder: `node_modules/.cache/kestrel/worker-bundles` of the node_modules esbuild is in. */
export function defaultBundleCache(): string {
  return join(dirname(dirname(require.resolve('esbuild/package.json'))), '.cache', 'kestrel', 'worker-bundles');
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

function keyOf(recipe: string, files: readonly (readonly [string, Uint8Array])[]): string {
  const hash = createHash('sha256').update(recipe);
  for (const [path, bytes] of files) hash.update(`\n${path}\0${sha256(bytes)}`);
  return hash.digest('hex').slice(0, 32);
}

/** Bundles being made in this process, by their list file: two starts of one entry make it once. */
const building = new Map<string, Promise<WorkerBundle>>();

/**
 * The bundle of the worker module at `entry` (a path), from the cache when its key matches the
 * files' bytes now, else made and stored. Fails, saying why, when the module cannot be bundled
 * faithfully (it uses `import.meta`, or imports a kind of file the key would not cover) or
 * esbuild fails; the caller then starts the worker from the sources.
 */
export async function workerBundle(entry: string, opts: { cacheDir?: string } = {}): Promise<WorkerBundle> {
  const file = resolve(entry);
  const dir = opts.cacheDir ?? defaultBundleCache();
  const { version } = JSON.parse(await readFile(require.resolve('esbuild/package.json'), 'utf8')) as { version: string };
  const recipe = JSON.stringify({ format: FORMAT, esbuild: version, entry: file, options: BUILD_OPTIONS });
  const stem = `${basename(file, extname(file))}-${sha256(recipe).slice(0, 12)}`;
  const list = join(dir, `${stem}.inputs.json`);
  const bundleFile = (key: string) => join(dir, `${stem}-${key}.mjs`);

  const cached = await lookUp(list, recipe, bundleFile);
  if (cached) return cached;
  let made = building.get(list);
  if (!made) {
    made = build(file, dir, recipe, list, bundleFile, stem).finally(() => building.delete(list));
    building.set(list, made);
  }
  return made;
}

/** The cached bundle for the listed files' bytes now, if there is one. */
async function lookUp(list: string, recipe: string, bundleFile: (key: string) => string): Promise<WorkerBundle | undefined> {
  const inputs = await readFile(list, 'utf8').then(
    (text) => (JSON.parse(text) as { inputs?: unknown }).inputs,
    () => undefined,
  );
  if (!Array.isArray(inputs) || !inputs.every((p) => typeof p === 'string')) return undefined;
  const bytes = await Promise.all(inputs.map((p) => readFile(p).catch(() => undefined)));
  if (bytes.some((b) => b === undefined)) return undefined;
  const file = bundleFile(keyOf(recipe, inputs.map((p, i) => [p, bytes[i]!] as const)));
  return (await stat(file).catch(() => undefined)) ? { url: pathToFileURL(file), built: false, inputs } : undefined;
}

async function build(entry: string, dir: string, recipe: string, list: string, bundleFile: (key: string) => string, stem: string): Promise<WorkerBundle> {
  const { build: esbuild } = await import('esbuild');
  const read = new Map<string, Uint8Array>();
  const keyedInputs: Plugin = {
    name: 'kestrel-keyed-inputs',
    setup(b) {
      b.onLoad({ filter: /.*/ }, async (args) => {
        const ext = extname(args.path);
        const loader = Object.hasOwn(LOADERS, ext) ? LOADERS[ext] : undefined;
        if (args.namespace !== 'file' || !loader) throw new Error(`${args.path} is not a TypeScript, JavaScript or JSON file, which a worker bundle's key could not cover`);
        const bytes = await readFile(args.path);
        if (IMPORT_META.test(bytes.toString('utf8'))) throw new Error(`${args.path} uses import.meta, which in a bundle names the bundle rather than the file`);
        read.set(args.path, bytes);
        return { contents: bytes, loader };
      });
    },
  };
  let result;
  try {
    result = await esbuild({ ...BUILD_OPTIONS, entryPoints: [entry], absWorkingDir: dirname(entry), outdir: dir, write: false, metafile: true, plugins: [keyedInputs] });
  } catch (err) {
    const first = (err as Partial<BuildFailure>).errors?.[0];
    throw new Error(first ? `esbuild: ${first.text}` : `esbuild: ${(err as Error).message}`, { cause: err });
  }
  const inputs = Object.keys(result.metafile.inputs).map((p) => resolve(dirname(entry), p)).sort();
  const unseen = inputs.find((p) => !read.has(p));
  if (unseen) throw new Error(`esbuild read ${unseen} without its bytes being keyed`);
  // An import that names its file stays that file whatever else appears beside it; one that
  // leaves out the extension (or names a folder) could come to mean another file, which the key
  // of the files read would not see.
  for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
    const implied = imports.find((i) => !i.external && i.original !== undefined && /^\.{0,2}\//.test(i.original) && basename(i.path) !== basename(i.original));
    if (implied) throw new Error(`${resolve(dirname(entry), input)} imports '${implied.original}' without naming its file (extension included), which a worker bundle's key could not follow`);
  }
  const output = result.outputFiles.find((f) => f.path.endsWith('.js'));
  if (!output || result.outputFiles.length !== 1) throw new Error(`esbuild made ${result.outputFiles.length} files for one worker bundle`);

  const file = bundleFile(keyOf(recipe, inputs.map((p) => [p, read.get(p)!] as const)));
  await makeFolder(dir);
  // The bundle before the list that leads to it: a reader never finds a list without its bundle.
  await writeFileAtomic(file, output.contents);
  await writeFileAtomic(list, `${JSON.stringify({ entry, inputs }, null, 1)}\n`);
  await prune(dir, stem, file);
  return { url: pathToFileURL(file), built: true, inputs };
}

/** Removes all but the newest KEEP bundles of an entry (`current` stays). */
async function prune(dir: string, stem: string, current: string): Promise<void> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(`${stem}-`) && n.endsWith('.mjs') && join(dir, n) !== current);
  const dated = await Promise.all(names.map(async (n) => ({ path: join(dir, n), time: (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.time - a.time);
  await Promise.all(dated.slice(KEEP - 1).map((d) => rm(d.path, { force: true })));
}
