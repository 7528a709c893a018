/** Loading the in-process model for a command, with its progress on stderr (stdout is the command's). */
import type { Device, LoadProgress } from '../../native-models/index.ts';
import { KimiVLLocalModel } from '../../native-models/runtime.ts';
import { ProgressBar } from './progress-bar.ts';

/** Shows load progress on the bar: bytes while the weights are read, one line per other phase. */
export function showLoadProgress(bar: ProgressBar): (p: LoadProgress) => void {
  return (p) => {
    if (p.phase === 'weights' && !p.indeterminate) bar.update('loading weights', p.done, p.total, p.detail);
    else if (p.phase === 'weights') bar.note('loading weights:', p.detail);
    else if (p.phase === 'ready') bar.note('model', p.detail);
    else bar.note('loading model:', p.detail);
  };
}

export async function loadLocalModel(dir: string, device: Device, stream: NodeJS.WriteStream = process.stderr): Promise<KimiVLLocalModel> {
  // A quarter at a time on a pipe: a load is a few lines in a log, not a screenful.
  const bar = new ProgressBar(stream, 30, 4);
  try {
    return await KimiVLLocalModel.load(dir, { device, onProgress: showLoadProgress(bar) });
  } finally {
    bar.end();
  }
}
