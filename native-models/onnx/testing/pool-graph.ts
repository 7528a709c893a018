/**
 * A graph of made-up weights for the weight pool's tests, built alike on the main thread and in
 * the test worker: fp32, fp16 and packed bytes, odd sizes (so padding shows), weights sharing a
 * group, and weights and a group that can make ranges of their rows — and, on request, a producer that fails
 * or makes too many bytes.
 */
import { GraphBuilder } from '../graph-builder.ts';
import { DataType, type DataTypeCode } from '../onnx-proto.ts';
import { SeededRandom } from '../../numeric/random.ts';

export interface PoolTestGraph {
  /** Make this weight's producer throw once it has yielded its first chunk. */
  readonly failAt?: string;
  /** Make this weight's row producer yield one row too many. */
  readonly overrunAt?: string;
  /** Make building the graph fail (as a worker's could, before it is ready). */
  readonly failBuild?: boolean;
}

function values(name: string, from: number, to: number, rowSize: number): Float32Array {
  const out = new Float32Array((to - from) * rowSize);
  for (let r = from; r < to; r++) {
    const rng = SeededRandom.fromString(`${name}/${r}`);
    for (let c = 0; c < rowSize; c++) out[(r - from) * rowSize + c] = rng.next() - 0.5;
  }
  return out;
}

export function poolTestGraph(opts: PoolTestGraph = {}): GraphBuilder {
  if (opts.failBuild) throw new Error('the test graph failed to build on purpose');
  const g = new GraphBuilder();
  /** rows × rowSize values, made in chunks of `chunkRows` rows; optionally row by row on request. */
  const add = (name: string, rows: number, rowSize: number, dataType: DataTypeCode, splittable: boolean, chunkRows = 7) => {
    const make = async function* (from: number, to: number) {
      for (let r = from; r < to; r += chunkRows) {
        if (opts.failAt === name && r > from) throw new Error(`${name}: the producer failed on purpose`);
        yield values(name, r, Math.min(to, r + chunkRows), rowSize);
      }
      if (opts.overrunAt === name) yield values(name, to, to + 1, rowSize);
    };
    g.weight({ name, dims: [rows, rowSize], dataType, produce: () => make(0, rows), ...(splittable ? { rows: make } : {}) });
  };
  const packed = (name: string, bytes: number, group: string) => {
    g.weight({
      name,
      dims: [bytes],
      dataType: DataType.UINT8,
      group,
      produce: async function* () {
        yield Uint8Array.from(values(name, 0, 1, bytes), (v) => Math.floor((v + 0.5) * 256));
      },
    });
  };
  /**
   * A quantised matrix of `rows` rows as a group that can make ranges of its rows: codes
   * [rows, 9] bytes, scales flat [2 × rows] fp32 (as MatMulNBits has them), zero points [rows].
   */
  const splitGroup = (name: string, rows: number) => {
    const shares = [
      { suffix: 'codes', dims: [rows, 9], perRow: 9, dataType: DataType.UINT8 },
      { suffix: 'scales', dims: [2 * rows], perRow: 2, dataType: DataType.FLOAT },
      { suffix: 'zeros', dims: [rows], perRow: 1, dataType: DataType.UINT8 },
    ] as const;
    for (const { suffix, dims, perRow, dataType } of shares) {
      const weight = `${name}.${suffix}`;
      const make = async function* (from: number, to: number) {
        const v = values(weight, from, to + (opts.overrunAt === weight ? 1 : 0), perRow);
        yield dataType === DataType.UINT8 ? Uint8Array.from(v, (x) => Math.floor((x + 0.5) * 256)) : v;
      };
      g.weight({ name: weight, dims, dataType, group: name, produce: () => make(0, rows), rows: make });
    }
  };
  add('embedding', 301, 33, DataType.FLOAT, true);
  splitGroup('m', 400);
  packed('q.codes', 1001, 'q');
  packed('q.scales', 77, 'q');
  packed('q.zeros', 5, 'q');
  add('norm', 1, 5, DataType.FLOAT, false);
  add('experts', 64, 129, DataType.FLOAT16, true, 3);
  add('head', 97, 41, DataType.FLOAT, false);
  add('tail', 250, 17, DataType.FLOAT, true);
  return g;
}
