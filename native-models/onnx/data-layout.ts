/**
 * Where a graph's weights go in its data file (`<name>.onnx.data`), how they are cut into units
 * of work, and the pieces the file's SHA-256s are taken over. All of it follows from the weights
 * (and the part size) alone, never from how many threads make them: one thread (model-writer.ts)
 * and any number of workers (weight-pool.ts) write the same bytes and record the same pieces.
 */
import type { WeightSpec } from './graph-builder.ts';
import { DataType } from './onnx-proto.ts';

/** Every weight starts on a page boundary in the data file, so onnxruntime can memory-map it. */
export const ALIGN = 4096;

function bytesPerElement(spec: WeightSpec): number {
  if (spec.dataType === DataType.FLOAT) return 4;
  if (spec.dataType === DataType.FLOAT16) return 2;
  if (spec.dataType === DataType.UINT8) return 1;
  throw new Error(`weight ${spec.name}: only float32, float16 and uint8 weights can be written`);
}

/** Bytes one weight takes in the data file. */
export function weightBytes(spec: WeightSpec): number {
  return spec.dims.reduce((a, b) => a * b, 1) * bytesPerElement(spec);
}

/**
 * Bytes of one row of `spec` cut into `rows` rows: by default its first dimension; a quantised
 * group's weights are all cut by their group's rows (the matrix's), each holding its share of a row.
 */
export function rowBytes(spec: WeightSpec, rows = spec.dims[0] ?? 1): number {
  return weightBytes(spec) / rows;
}

/** Where each weight starts in `<name>.onnx.data` (after its page-alignment padding), and the file's size. */
export interface DataLayout {
  readonly offsets: readonly number[];
  readonly bytes: number;
}

/** The data file's layout, worked out from the weights' declared shapes without producing any value. */
export function dataLayout(weights: readonly WeightSpec[]): DataLayout {
  const offsets: number[] = [];
  let end = 0;
  for (const spec of weights) {
    const start = end + ((ALIGN - (end % ALIGN)) % ALIGN);
    offsets.push(start);
    end = start + weightBytes(spec);
  }
  return { offsets, bytes: end };
}

/** What writeModel will put in `<name>.onnx.data` for these weights, page alignment included. */
export function plannedDataBytes(weights: readonly WeightSpec[]): number {
  return dataLayout(weights).bytes;
}

/** What one worker makes at a time: weights [from, to), all of each or only rows [a, b) of each. */
export interface WeightUnit {
  readonly from: number;
  readonly to: number;
  readonly rows?: readonly [number, number];
}

/** The size of the parts a weight (or a group) that can make its own rows is cut into. */
export const PART_BYTES = 16 * 2 ** 20;

/**
 * The units of work, in file order: the weights sharing a `group` together, any other weight
 * alone; a unit larger than `partBytes` whose weights can all make a range of their rows is cut
 * into parts of about that size. A group's rows are its first weight's first dimension (a
 * quantised matrix's rows), each of its weights holding the same share of every row.
 */
export function weightUnits(weights: readonly WeightSpec[], partBytes = PART_BYTES): WeightUnit[] {
  const units: WeightUnit[] = [];
  for (let from = 0; from < weights.length; ) {
    const group = weights[from]!.group;
    let to = from + 1;
    while (group !== undefined && to < weights.length && weights[to]!.group === group) to++;
    const span = weights.slice(from, to);
    const rows = span[0]!.dims[0] ?? 1;
    const bytes = span.reduce((sum, spec) => sum + weightBytes(spec), 0);
    if (rows > 1 && bytes > partBytes && span.every((spec) => spec.rows && Number.isInteger(rowBytes(spec, rows)))) {
      const perPart = Math.max(1, Math.floor(partBytes / (bytes / rows)));
      for (let a = 0; a < rows; a += perPart) units.push({ from, to, rows: [a, Math.min(rows, a + perPart)] });
    } else {
      units.push({ from, to });
    }
    from = to;
  }
  return units;
}

/** Where one weight's share of a unit goes in the data file. */
export interface PiecePlace {
  /** Where the padding before it starts (the end of the weight before; `start` when it has none). */
  readonly padFrom: number;
  /** Where its bytes start, and how many the producer must make. */
  readonly start: number;
  readonly bytes: number;
}

/**
 * Each unit's places, one per weight in order. Together they tile the file: a weight's padding
 * goes with its first part (or with the whole weight).
 */
export function unitPlaces(weights: readonly WeightSpec[], layout: DataLayout, units: readonly WeightUnit[]): PiecePlace[][] {
  const end = (index: number) => (index < 0 ? 0 : layout.offsets[index]! + weightBytes(weights[index]!));
  return units.map(({ from, to, rows }) =>
    weights.slice(from, to).map((spec, i) => {
      const index = from + i;
      if (!rows) return { padFrom: end(index - 1), start: layout.offsets[index]!, bytes: weightBytes(spec) };
      const row = rowBytes(spec, weights[from]!.dims[0]);
      const start = layout.offsets[index]! + rows[0] * row;
      return { padFrom: rows[0] === 0 ? end(index - 1) : start, start, bytes: (rows[1] - rows[0]) * row };
    }),
  );
}

/**
 * Where the hashed pieces start, in file order. A piece is a run of one unit's places that follow
 * each other in the file (the whole unit, unless it is a part of a group, whose weights lie apart),
 * so the thread that makes a unit can hash its pieces as it writes them; empty runs are none.
 */
export function pieceStarts(places: readonly (readonly PiecePlace[])[]): number[] {
  const starts: number[] = [];
  for (const unit of places) {
    let run: { start: number; end: number } | undefined;
    for (const p of unit) {
      if (run && p.padFrom === run.end) {
        run.end = p.start + p.bytes;
        continue;
      }
      if (run && run.end > run.start) starts.push(run.start);
      run = { start: p.padFrom, end: p.start + p.bytes };
    }
    if (run && run.end > run.start) starts.push(run.start);
  }
  return starts.sort((a, b) => a - b);
}
