/**
 * Small attention problems for the blocked-attention operation (native-models/onnx/attention.ts),
 * each built as a one-operation graph and checked against plain loops; the CPU's unit tests and
 * the WebGPU project run the same cases.
 */
import { SeededRandom } from '../../native-models/numeric/random.ts';
import { attention, attentionPlan } from '../../native-models/onnx/attention.ts';
import { openSession, type Device, type FeedValue } from '../../native-models/onnx/backend.ts';
import { GraphBuilder, attr } from '../../native-models/onnx/graph-builder.ts';
import { writeModel } from '../../native-models/onnx/model-writer.ts';
import { DataType } from '../../native-models/onnx/onnx-proto.ts';

export interface AttentionCase {
  readonly heads: number;
  readonly queries: number;
  readonly keys: number;
  /** Widths of the (query, key) pairs whose products add up. */
  readonly widths: readonly number[];
  readonly valueWidth: number;
  /** Keys and values shared by all heads (MLA's latent cache) instead of one set per head. */
  readonly shared?: boolean;
  /** Position of the first query for causal attention; omitted: no mask. */
  readonly firstPosition?: number;
  readonly output: 'heads' | 'merged';
  readonly budget: number;
  readonly blocks?: 'budget' | 'one';
}

const rand = (rng: SeededRandom, n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);

/** Plain loops: softmax over every visible key of q·kᵀ summed over the pairs, times v. */
function expected(c: AttentionCase, qs: Float32Array[], ks: Float32Array[], v: Float32Array): Float32Array {
  const out = new Float32Array(c.heads * c.queries * c.valueWidth);
  for (let h = 0; h < c.heads; h++) {
    const kh = c.shared ? 0 : h;
    for (let i = 0; i < c.queries; i++) {
      const visible = c.firstPosition === undefined ? c.keys : Math.min(c.keys, c.firstPosition + i + 1);
      const s = new Float64Array(visible);
      for (let j = 0; j < visible; j++) {
        for (const [p, d] of c.widths.entries()) {
          for (let x = 0; x < d; x++) s[j] += qs[p]![(h * c.queries + i) * d + x]! * ks[p]![(kh * d + x) * c.keys + j]!;
        }
      }
      const m = Math.max(...s);
      let sum = 0;
      for (let j = 0; j < visible; j++) sum += s[j] = Math.exp(s[j]! - m);
      for (let x = 0; x < c.valueWidth; x++) {
        let acc = 0;
        for (let j = 0; j < visible; j++) acc += s[j]! * v[(kh * c.keys + j) * c.valueWidth + x]!;
        const at = c.output === 'heads' ? (h * c.queries + i) * c.valueWidth + x : (i * c.heads + h) * c.valueWidth + x;
        out[at] = acc / sum;
      }
    }
  }
  return out;
}

let models = 0;
/** Builds the case's graph in `dir`, runs it on `device` with seeded inputs, and returns its output and the plain loops'. */
export async function runAttentionCase(dir: string, c: AttentionCase, device: Device = 'cpu'): Promise<{ got: Float32Array; want: Float32Array }> {
  const g = new GraphBuilder();
  const F = DataType.FLOAT;
  const keyHeads = c.shared ? [] : [c.heads];
  const queries = c.widths.map((d, p) => g.input(`q${p}`, F, [c.heads, 'queries', d]));
  const keysT = c.widths.map((d, p) => g.input(`k${p}`, F, [...keyHeads, d, 'keys']));
  const values = g.input('v', F, [...keyHeads, 'keys', c.valueWidth]);
  const first = c.firstPosition === undefined ? undefined : g.input('first', DataType.INT64, [1]);
  const count = (value: string, start: number, name: string) => g.op('Shape', [value], name, [attr.int('start', start), ...(start === 1 ? [attr.int('end', 2)] : [])]);
  const plan = attentionPlan(g, { queries: count(queries[0]!, 1, 'queries'), keys: count(keysT[0]!, -1, 'keys'), heads: c.heads, firstPosition: first, budget: c.budget, name: 'attn.plan' });
  const out = attention(g, {
    plan,
    scores: queries.map((query, p) => ({ query, keysT: keysT[p]! })),
    values,
    valueWidth: c.valueWidth,
    dataType: F,
    output: c.output,
    name: 'attn',
    blocks: c.blocks,
  });
  g.output(out, F);
  const written = await writeModel(g, dir, `attention-${models++}`);
  const session = await openSession(written.modelFile, { device });
  const rng = new SeededRandom(c.queries * 31 + c.keys);
  const keyCopies = c.shared ? 1 : c.heads;
  const qs = c.widths.map((d) => rand(rng, c.heads * c.queries * d).map((x) => x / Math.sqrt(d)));
  const ks = c.widths.map((d) => rand(rng, keyCopies * d * c.keys));
  const v = rand(rng, keyCopies * c.keys * c.valueWidth);
  const feeds: Record<string, FeedValue> = { v: { type: 'float32', data: v, dims: [...keyHeads, c.keys, c.valueWidth] } };
  c.widths.forEach((d, p) => {
    feeds[`q${p}`] = { type: 'float32', data: qs[p]!, dims: [c.heads, c.queries, d] };
    feeds[`k${p}`] = { type: 'float32', data: ks[p]!, dims: [...keyHeads, d, c.keys] };
  });
  if (c.firstPosition !== undefined) feeds.first = { type: 'int64', data: BigInt64Array.of(BigInt(c.firstPosition)), dims: [1] };
  const result = await session.run(feeds, [out]);
  await session.release();
  return { got: result[out]!.data as Float32Array, want: expected(c, qs, ks, v) };
}

export const ATTENTION_CASES: [string, AttentionCase][] = [
  ['no mask, one block', { heads: 3, queries: 20, keys: 20, widths: [8], valueWidth: 6, output: 'merged', budget: 1 << 20 }],
  ['no mask, blocks of 2 queries with a short last block', { heads: 3, queries: 21, keys: 21, widths: [8], valueWidth: 6, output: 'merged', budget: 3 * 21 * 2 }],
  ['causal after 9 cached keys, blocks of 4', { heads: 2, queries: 11, keys: 20, widths: [8, 4], valueWidth: 5, firstPosition: 9, output: 'heads', budget: 2 * 20 * 4 }],
  ['causal, keys and values shared by the heads, one query per block', { heads: 4, queries: 7, keys: 7, widths: [12], valueWidth: 10, shared: true, firstPosition: 0, output: 'heads', budget: 1 }],
  ['decode: one query after 30 cached keys', { heads: 4, queries: 1, keys: 31, widths: [12, 4], valueWidth: 10, shared: true, firstPosition: 30, output: 'merged', budget: 1 << 20 }],
  ['one block without a loop, causal after 9 cached keys', { heads: 2, queries: 11, keys: 20, widths: [8, 4], valueWidth: 5, firstPosition: 9, output: 'heads', budget: 1, blocks: 'one' }],
  ['one block without a loop, no mask, merged heads', { heads: 3, queries: 5, keys: 9, widths: [8], valueWidth: 6, output: 'merged', budget: 1, blocks: 'one' }],
];

