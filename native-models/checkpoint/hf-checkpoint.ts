/**
 * A Hugging Face checkpoint folder: `config.json` plus either `model.safetensors` or
 * `model.safetensors.index.json` and its shards. Tensors are looked up by name across shards
 * and read one at a time (or a slice of rows at a time).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bf16Span } from './bf16-span.ts';
import { CheckpointError } from './errors.ts';
import { isFloatDtype, SafetensorsFile, type TensorInfo } from './safetensors.ts';

const INDEX_FILE = 'model.safetensors.index.json';
const SINGLE_FILE = 'model.safetensors';

export function readJsonFile(path: string, what: string): unknown {
  if (!existsSync(path)) throw new CheckpointError(`${what} not found: ${path}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new CheckpointError(`${path} is not valid JSON (${(err as Error).message}); fix or re-download it`);
  }
}

export class HfCheckpoint {
  private readonly files = new Map<string, SafetensorsFile>();
  private readonly owner = new Map<string, string>();

  private constructor(readonly dir: string) {}

  /** The shard files, in a stable order (for checksums and manifests). */
  get fileNames(): string[] {
    return [...this.files.keys()].sort();
  }

  get tensorNames(): string[] {
    return [...this.owner.keys()];
  }

  static open(dir: string): HfCheckpoint {
    if (!existsSync(dir)) throw new CheckpointError(`checkpoint folder not found: ${dir}`);
    const ckpt = new HfCheckpoint(dir);
    try {
      const indexPath = join(dir, INDEX_FILE);
      if (existsSync(indexPath)) {
        const index = readJsonFile(indexPath, 'safetensors index') as { weight_map?: Record<string, string> };
        if (!index.weight_map || typeof index.weight_map !== 'object') {
          throw new CheckpointError(`${INDEX_FILE} has no weight_map; re-download the checkpoint`);
        }
        for (const [tensor, file] of Object.entries(index.weight_map)) {
          if (!ckpt.files.has(file)) {
            const path = join(dir, file);
            if (!existsSync(path)) throw new CheckpointError(`${INDEX_FILE} lists ${file} (for ${tensor}) but the file is missing; download it`);
            ckpt.files.set(file, new SafetensorsFile(path));
          }
          if (!ckpt.files.get(file)!.tensors.has(tensor)) {
            throw new CheckpointError(`${file}: tensor ${tensor} is listed in ${INDEX_FILE} but missing from the file; re-download it`);
          }
          ckpt.owner.set(tensor, file);
        }
      } else if (existsSync(join(dir, SINGLE_FILE))) {
        const file = new SafetensorsFile(join(dir, SINGLE_FILE));
        ckpt.files.set(SINGLE_FILE, file);
        for (const name of file.tensors.keys()) ckpt.owner.set(name, SINGLE_FILE);
      } else {
        throw new CheckpointError(`${dir} has neither ${SINGLE_FILE} nor ${INDEX_FILE}; point at the downloaded Hugging Face folder`);
      }
    } catch (err) {
      ckpt.close();
      throw err;
    }
    return ckpt;
  }

  has(name: string): boolean {
    return this.owner.has(name);
  }

  private file(name: string): [string, SafetensorsFile] {
    const fileName = this.owner.get(name);
    if (!fileName) throw new CheckpointError(`tensor ${name} is missing from the checkpoint in ${this.dir}; is this the right model?`);
    return [fileName, this.files.get(fileName)!];
  }

  info(name: string): TensorInfo & { readonly file: string } {
    const [file, st] = this.file(name);
    return { ...st.info(name), file };
  }

  /** Throws a clear error unless the tensor exists as floats with exactly this shape. */
  expectShape(name: string, shape: readonly number[]): void {
    const info = this.info(name);
    if (!isFloatDtype(info.dtype)) {
      throw new CheckpointError(`${info.file}: tensor ${name} is ${info.dtype}, not F32/F16/BF16; this looks like a quantized checkpoint — import the original bf16 one`);
    }
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(`${info.file}: tensor ${name} has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}] from config.json`);
    }
  }

  read(name: string): Float32Array {
    const [, st] = this.file(name);
    const t = st.info(name);
    return st.readRange(name, 0, t.shape.reduce((a, b) => a * b, 1));
  }

  /** A BF16 tensor's bit patterns, unwidened (SafetensorsFile.readBf16Range). */
  readBf16(name: string): Uint16Array {
    const [, st] = this.file(name);
    const t = st.info(name);
    return st.readBf16Range(name, 0, t.shape.reduce((a, b) => a * b, 1));
  }

  /** Rows [from, to) of the first dimension (default all), at most `maxElements` values per chunk. */
  *readRows(name: string, maxElements = 1 << 22, from = 0, to?: number): Generator<Float32Array> {
    yield* this.rowChunks(name, maxElements, from, to, (st, start, count) => st.readRange(name, start, count));
  }

  /** readRows of a BF16 tensor as its bit patterns, unwidened. */
  *readBf16Rows(name: string, maxElements = 1 << 22, from = 0, to?: number): Generator<Uint16Array> {
    yield* this.rowChunks(name, maxElements, from, to, (st, start, count) => st.readBf16Range(name, start, count));
  }

  /** A BF16 tensor as a span, not read yet (SafetensorsFile.bf16Span). */
  bf16Span(name: string): Bf16Span {
    const [, st] = this.file(name);
    return st.bf16Span(name, 0, st.info(name).shape.reduce((a, b) => a * b, 1));
  }

  /** readBf16Rows' chunks as spans, not read yet. */
  *bf16RowSpans(name: string, maxElements = 1 << 22, from = 0, to?: number): Generator<Bf16Span> {
    yield* this.rowChunks(name, maxElements, from, to, (st, start, count) => st.bf16Span(name, start, count));
  }

  private *rowChunks<T>(name: string, maxElements: number, from: number, to: number | undefined, read: (st: SafetensorsFile, start: number, count: number) => T): Generator<T> {
    const [, st] = this.file(name);
    const t = st.info(name);
    const end = to ?? t.shape[0] ?? 1;
    const rowSize = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const perChunk = Math.max(1, Math.floor(maxElements / rowSize));
    for (let r = from; r < end; r += perChunk) {
      const n = Math.min(perChunk, end - r);
      yield read(st, r * rowSize, n * rowSize);
    }
  }

  close(): void {
    for (const f of this.files.values()) f.close();
  }
}
