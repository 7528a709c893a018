import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyCheckpoint, type TinyCheckpointOptions } from '../../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';

/** A fresh temporary folder; removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `kestrel-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Makes a new empty folder inside `root` at each call: `out-0`, `out-1`, … */
export function freshDirs(root: string): () => string {
  let n = 0;
  return () => {
    const dir = join(root, `out-${n++}`);
    mkdirSync(dir);
    return dir;
  };
}

/** Writes a tiny random Kimi-VL checkpoint into a temporary folder. */
export function tinyCheckpoint(opts: TinyCheckpointOptions = {}): { dir: string; cleanup: () => void } {
  const t = tempDir('ckpt');
  writeTinyCheckpoint(t.dir, opts);
  return t;
}
