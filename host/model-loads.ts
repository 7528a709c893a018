/**
 * The in-process model, loaded once and kept for the next run or probe while the folder and
 * device stay the same. A load's progress goes to every window as `model_load` events; a reused
 * model loads nothing, so it sends none.
 */
import type { HostEvent, ModelLoad } from './types.ts';
import { messageOf } from '../shared/one-line.ts';

type Device = ModelLoad['device'];

export type LoadProgressUpdate = Pick<ModelLoad, 'phase' | 'done' | 'total' | 'detail' | 'indeterminate'>;

/** Loads the model in `dir` on `device`, reporting progress (native-models' KimiVLLocalModel.load). */
export type ModelLoader<M> = (dir: string, device: Device, onProgress: (p: LoadProgressUpdate) => void) => Promise<M>;

/** Byte progress a few times a second is enough for a progress bar; phase changes always go. */
const MIN_INTERVAL_MS = 200;

export class ModelLoads<M> {
  private loaded: { dir: string; device: Device; model: Promise<M> } | undefined;
  private load: ModelLoad | undefined;
  private readonly listeners = new Set<(event: HostEvent) => void>();

  constructor(private readonly loader: ModelLoader<M>) {}

  subscribe(listener: (event: HostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The load in progress, or the last one that ended. */
  current(): ModelLoad | undefined {
    return this.load;
  }

  /** The model for `dir` on `device`: the one already loaded (or loading), else a new load. */
  open(dir: string, device: Device): Promise<M> {
    if (this.loaded && this.loaded.dir === dir && this.loaded.device === device) return this.loaded.model;
    let last = 0;
    const update = (next: ModelLoad, force: boolean) => {
      const now = Date.now();
      if (!force && now - last < MIN_INTERVAL_MS) return;
      last = now;
      this.load = next;
      for (const listener of this.listeners) listener({ type: 'model_load', load: next });
    };
    let phase: ModelLoad['phase'] | undefined;
    const model = this.loader(dir, device, (p) => {
      update({ dir, device, ...p }, p.phase !== phase || p.done === p.total);
      phase = p.phase;
    });
    const entry = { dir, device, model };
    this.loaded = entry;
    model.catch((err: unknown) => {
      if (this.loaded === entry) this.loaded = undefined;
      const { total = 0, done = 0 } = this.load?.dir === dir && this.load.device === device ? this.load : {};
      update({ dir, device, phase: 'failed', done, total, detail: '', indeterminate: true, error: messageOf(err) }, true);
    });
    return model;
  }
}
