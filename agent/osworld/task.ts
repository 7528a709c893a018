import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { KestrelError } from '../../shared/errors.ts';
import { folderNameProblem } from '../../shared/folder-name.ts';

/** One set-up (or postconfig) step as OSWorld writes it: a type and its parameters. */
export interface TaskStep {
  readonly type: string;
  readonly parameters: Record<string, unknown>;
}

/** A getter's configuration: `type` picks the getter, the rest is its own. */
export interface GetterConfig {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface TaskEvaluator {
  readonly func: string | readonly string[];
  readonly conj?: 'and' | 'or';
  readonly result?: GetterConfig | readonly (GetterConfig | null)[];
  readonly expected?: GetterConfig | readonly (GetterConfig | null)[];
  readonly options?: Record<string, unknown> | readonly (Record<string, unknown> | null)[];
  readonly postconfig?: readonly TaskStep[];
  readonly [key: string]: unknown;
}

/**
 * An OSWorld task file, read as it is. Fields Kestrel does not use (source, proxy, fixed_ip,
 * possibility_of_env_change, …) stay in `raw`, untouched.
 */
export interface OsworldTask {
  readonly id: string;
  readonly snapshot?: string;
  readonly instruction: string;
  readonly config: readonly TaskStep[];
  readonly evaluator: TaskEvaluator;
  readonly relatedApps: readonly string[];
  /** The domain the results go under: the task's folder within a task tree, else `snapshot`. */
  readonly domain: string;
  readonly source: string;
  readonly raw: Readonly<Record<string, unknown>>;
}

export class TaskFormatError extends KestrelError {
  override readonly name = 'TaskFormatError';
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function steps(value: unknown, where: string): TaskStep[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TaskFormatError(`${where} must be a list of steps ({"type": …, "parameters": {…}})`);
  return value.map((step, index) => {
    if (!isObject(step) || typeof step.type !== 'string' || step.type === '') {
      throw new TaskFormatError(`${where}[${index}] needs a "type" naming the step (e.g. "execute", "sleep")`);
    }
    const parameters = step.parameters ?? {};
    if (!isObject(parameters)) throw new TaskFormatError(`${where}[${index}] (${step.type}): "parameters" must be an object`);
    return { type: step.type, parameters };
  });
}

function getterList(value: unknown, where: string, count: number | undefined): void {
  if (value === undefined) return;
  const check = (entry: unknown, at: string): void => {
    if (entry !== null && (!isObject(entry) || typeof entry.type !== 'string')) {
      throw new TaskFormatError(`${at} must be a getter object with a "type" (e.g. {"type": "rule", …})`);
    }
  };
  if (count === undefined) {
    if (isObject(value) && Object.keys(value).length === 0) return;
    check(value, where);
  } else {
    if (!Array.isArray(value) || value.length !== count) {
      throw new TaskFormatError(`${where} must be a list of ${count} getters, one per metric in "func"`);
    }
    value.forEach((entry, i) => check(entry, `${where}[${i}]`));
  }
}

function evaluator(value: unknown, where: string): TaskEvaluator {
  if (!isObject(value)) throw new TaskFormatError(`${where} needs an "evaluator" object with at least "func"`);
  const func = value.func;
  const list = Array.isArray(func);
  if (!(typeof func === 'string' && func !== '') && !(list && func.length > 0 && func.every((f) => typeof f === 'string'))) {
    throw new TaskFormatError(`${where}: evaluator.func must be a metric name or a non-empty list of them`);
  }
  if (value.conj !== undefined && value.conj !== 'and' && value.conj !== 'or') {
    throw new TaskFormatError(`${where}: evaluator.conj must be "and" or "or", got ${JSON.stringify(value.conj)}`);
  }
  const count = list ? func.length : undefined;
  getterList(value.result, `${where}: evaluator.result`, count);
  getterList(value.expected, `${where}: evaluator.expected`, count);
  if (list && value.options !== undefined && (!Array.isArray(value.options) || value.options.length !== count)) {
    throw new TaskFormatError(`${where}: evaluator.options must be a list of ${count} (one per metric, null where none)`);
  }
  return { ...value, postconfig: steps(value.postconfig, `${where}: evaluator.postconfig`) } as unknown as TaskEvaluator;
}

function folderName(value: string, what: string, source: string): string {
  const problem = folderNameProblem(value);
  if (problem) {
    throw new TaskFormatError(`${source}: ${what} ${JSON.stringify(value)} ${problem}; it names a results folder, so it must be one plain folder name`);
  }
  return value;
}

/**
 * Validates one parsed task file. `source` names it in messages; `domain` (the task's folder in
 * a task tree, or the person's choice) overrides the snapshot as the results folder's domain.
 */
export function parseOsworldTask(json: unknown, source: string, domain?: string): OsworldTask {
  if (!isObject(json)) throw new TaskFormatError(`${source} is not an OSWorld task (expected a JSON object)`);
  if (typeof json.id !== 'string' || json.id === '') throw new TaskFormatError(`${source} has no "id"`);
  const id = folderName(json.id, 'id', source);
  if (typeof json.instruction !== 'string' || json.instruction.trim() === '') {
    throw new TaskFormatError(`${source} has no "instruction"`);
  }
  const snapshot = typeof json.snapshot === 'string' ? folderName(json.snapshot, 'snapshot', source) : undefined;
  const relatedApps = Array.isArray(json.related_apps) ? json.related_apps.filter((a): a is string => typeof a === 'string') : [];
  const chosen =
    domain !== undefined
      ? folderName(domain, 'domain', source)
      : (snapshot ?? (relatedApps[0] !== undefined ? folderName(relatedApps[0], 'related_apps[0] (the domain when there is no snapshot)', source) : 'default'));
  return {
    id,
    snapshot,
    instruction: json.instruction,
    config: steps(json.config, `${source}: config`),
    evaluator: evaluator(json.evaluator, source),
    relatedApps,
    domain: chosen,
    source,
    raw: json,
  };
}

async function readTask(path: string, domain?: string): Promise<OsworldTask> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new TaskFormatError(`cannot read task file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TaskFormatError(`${path} is not valid JSON (${(err as Error).message})`);
  }
  return parseOsworldTask(json, path, domain);
}

async function jsonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => jsonFiles(join(dir, e.name))),
  );
  const here = entries.filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => join(dir, e.name));
  return [...here.sort(), ...nested.flat()];
}

/** Index files such as OSWorld's test_all.json map domains to ids; they are not tasks. */
function looksLikeIndex(path: string): boolean {
  return /^test_.*\.json$/.test(basename(path));
}

/**
 * A task file, or every task under a folder (OSWorld's `examples/<domain>/<id>.json` tree: the
 * sub-folder names the domain). `domain` overrides it.
 */
export async function loadOsworldTasks(path: string, domain?: string): Promise<OsworldTask[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new TaskFormatError(`${path} does not exist; give an OSWorld task .json file or a folder of them`);
  }
  if (!info.isDirectory()) return [await readTask(path, domain)];
  const files = (await jsonFiles(path)).filter((file) => !looksLikeIndex(file));
  if (files.length === 0) throw new TaskFormatError(`${path} holds no task .json files`);
  return Promise.all(
    files.map((file) => {
      const folder = relative(path, dirname(file));
      return readTask(file, domain ?? (folder === '' ? undefined : folder.split(sep)[0]));
    }),
  );
}
