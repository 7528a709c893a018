import type { ModelLoad } from '../../../host/ui-types.ts';

const WHAT: Record<ModelLoad['phase'], string> = {
  weights: 'reading weights',
  text: 'starting the language model',
  vision: 'starting the vision model',
  ready: 'ready',
  failed: 'failed',
};

/** How far a model load got, for the status line; undefined once it has ended. */
export function loadingStatus(load: ModelLoad | undefined): { text: string; percent?: number; detail: string } | undefined {
  if (!load || load.phase === 'ready' || load.phase === 'failed') return undefined;
  const what = load.phase === 'weights' && load.indeterminate ? 'preparing' : WHAT[load.phase];
  // Nothing read yet and nothing countable (a skipped read-ahead): a percentage would just sit at 0.
  if (load.indeterminate && load.done === 0) return { text: `Loading model… (${what})`, detail: load.detail };
  const percent = load.total > 0 ? Math.floor((100 * load.done) / load.total) : 0;
  return { text: `Loading model… ${percent}% (${what})`, percent, detail: load.detail };
}
