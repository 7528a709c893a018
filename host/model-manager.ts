import { randomUUID } from 'node:crypto';
import { readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Device, ImportPlan } from '../native-models/index.ts';
import type { HostEvent, ImportJob, ImportPrecision, ModelEntry } from './types.ts';
import { messageOf } from '../shared/one-line.ts';

/** The in-process model's importer (native-models), as the manager needs it. */
export interface ModelImporter {
  /** The file a converted folder carries, e.g. kestrel-model.json. */
  readonly manifestFile: string;
  /** The file an import under way (or cut short) leaves in its folder; such a folder is taken over, not refused. */
  readonly markerFile?: string;
  run(options: {
    source: string;
    out: string;
    /** `auto` follows `device`: int4 for a GPU, fp32 for the CPU unless it would not fit in memory. */
    precision: ImportPrecision;
    device: Device;
    /** Hash the checkpoint's shards too (else a Hugging Face cache blob's name, or size and time, identify them). */
    hashSource?: boolean;
    onPlan: (plan: ImportPlan) => void;
    onProgress: (p: { phase: 'checking' | 'converting' | 'hashing'; done: number; total: number; detail: string }) => void;
    /** One-line notes, such as an interrupted import being taken over. */
    onNote?: (note: string) => void;
    /** Cancels the import; it removes what it wrote. */
    signal?: AbortSignal;
    /** Tests only, not a feature: the native importer's ImportOptions.testOnlyHold, awaited at a named point of the import. */
    testOnlyHold?: (point: string) => Promise<void>;
  }): Promise<unknown>;
}

const over = (job: ImportJob): boolean => job.phase === 'done' || job.phase === 'failed' || job.phase === 'cancelled';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = join(dir, entry.name);
    total += entry.isDirectory() ? await folderBytes(full) : ((await stat(full).catch(() => undefined))?.size ?? 0);
  }
  return total;
}

/**
 * Converted models in one folder: list, import (one at a time, with progress pushed to every
 * window), delete. Only folders inside the models folder that carry a manifest are listed, and
 * only listed ones are deleted.
 */
export class ModelManager {
  private job: ImportJob | undefined;
  private cancel: AbortController | undefined;
  private readonly listeners = new Set<(event: HostEvent) => void>();

  constructor(
    private readonly importer: ModelImporter,
    private readonly modelsDir: () => string,
    private readonly activeDir: () => string,
    /** The device chosen in Settings, which an `auto` import's precision follows. */
    private readonly device: () => Device = () => 'auto',
  ) {}

  subscribe(listener: (event: HostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  current(): ImportJob | undefined {
    return this.job;
  }

  async list(): Promise<ModelEntry[]> {
    const root = resolve(this.modelsDir());
    const names = await readdir(root).catch(() => [] as string[]);
    const out: ModelEntry[] = [];
    for (const name of names.sort()) {
      const path = join(root, name);
      let manifest: { precision?: unknown; createdAt?: unknown };
      try {
        manifest = JSON.parse(await readFile(join(path, this.importer.manifestFile), 'utf8')) as typeof manifest;
      } catch {
        continue;
      }
      out.push({
        name,
        path,
        ...(typeof manifest.precision === 'string' ? { precision: manifest.precision } : {}),
        ...(typeof manifest.createdAt === 'string' ? { createdAt: manifest.createdAt } : {}),
        bytes: await folderBytes(path),
        active: resolve(this.activeDir() || '.') === path,
      });
    }
    return out;
  }

  /** Starts converting a Hugging Face folder into <models>/<name>; progress arrives as events. */
  startImport(source: string, name: string, precision: ImportPrecision = 'auto', opts: { hashSource?: boolean | undefined } = {}): ImportJob {
    if (this.job && !over(this.job)) {
      throw new Error(`an import is already running (${basename(this.job.source)}); wait for it to finish or cancel it`);
    }
    if (!NAME.test(name)) throw new Error(`the model name "${name}" may use letters, digits, ".", "_" and "-" only`);
    const target = join(resolve(this.modelsDir()), name);
    let job: ImportJob = { id: randomUUID(), source: resolve(source), target, phase: 'starting', done: 0, total: 0, detail: '' };
    const update = (next: ImportJob) => {
      job = next;
      this.job = next;
      for (const listener of this.listeners) listener({ type: 'model_import', job: next });
    };
    update(job);
    const cancel = (this.cancel = new AbortController());
    const marker = this.importer.markerFile;
    void (async () => {
      try {
        // A folder left by an import cut short (the app closed mid-way) is taken over by the importer.
        const interrupted = marker !== undefined && (await stat(join(target, marker)).catch(() => undefined)) !== undefined;
        if (!interrupted && (await stat(target).catch(() => undefined))) throw new Error(`${target} already exists; choose another name or delete it first`);
        let last = 0;
        await this.importer.run({
          source: job.source,
          out: target,
          precision,
          device: this.device(),
          ...(opts.hashSource ? { hashSource: true } : {}),
          signal: cancel.signal,
          onNote: (note) => update({ ...job, detail: note }),
          onPlan: ({ precision: choice, weights }) =>
            update({ ...job, plan: { precision: choice.precision, reason: choice.reason, ...(choice.note ? { note: choice.note } : {}), weightBytes: weights.total } }),
          onProgress: (p) => {
            // Thousands of tensors: tell the windows a few times a second, not on every one.
            const now = Date.now();
            if (now - last < 200 && p.done < p.total) return;
            last = now;
            update({ ...job, ...p });
          },
        });
        update({ ...job, phase: 'done', done: job.total, detail: `imported into ${target}` });
      } catch (err) {
        if (cancel.signal.aborted) update({ ...job, phase: 'cancelled', detail: 'cancelled; what it had written is removed' });
        else update({ ...job, phase: 'failed', error: messageOf(err) });
      }
    })();
    return job;
  }

  /** Cancels the import under way; it ends as 'cancelled' once what it wrote is removed. */
  cancelImport(): ImportJob {
    if (!this.job || over(this.job)) throw new Error('no import is running');
    this.cancel?.abort();
    return this.job;
  }

  /** The file every converted folder carries; settings checks look for it. */
  get manifestFile(): string {
    return this.importer.manifestFile;
  }

  /**
   * Deletes one of the models `list()` shows, matched by real path (links resolved), and nothing
   * else. A listed entry that is a link to a model elsewhere loses the link, not the model.
   */
  async delete(path: string): Promise<void> {
    const wanted = await realpath(path).catch(() => undefined);
    let entry: ModelEntry | undefined;
    for (const model of await this.list()) {
      if (wanted !== undefined && (await realpath(model.path).catch(() => undefined)) === wanted) entry = model;
    }
    if (!entry) {
      throw new Error(`${path} is not one of the models listed in ${resolve(this.modelsDir())}; only those can be deleted here`);
    }
    if (this.job && this.job.target === entry.path && !over(this.job)) {
      throw new Error('that model is being imported right now');
    }
    await rm(entry.path, { recursive: true, force: true });
  }
}
