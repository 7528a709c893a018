/**
 * Attention as one graph operation, shared by the language model and the vision tower:
 * softmax(q·kᵀ + mask)·v computed one block of queries at a time inside an ONNX `Loop`, so the
 * scores that exist at once stay under a fixed budget whatever the sequence length. Without
 * blocks a 8k-token prompt on a 4-head model holds 4 × 8k × 8k scores per layer (1 GB in fp32,
 * several copies), and a 4K screenshot's 16k patches × 16 heads hold 17 GB.
 *
 * Why this form (docs/attention.md has the measurements):
 * - Plain MatMul/Softmax/Where inside the loop run on every execution provider; onnxruntime has
 *   no fused attention that is causal, memory-efficient and exact on the CPU and WebGPU alike
 *   (the CPU's `MultiHeadAttention` is flash-style only without a mask; WebGPU's differs from
 *   the CPU by up to 1e-1 on lavapipe; the ONNX `Attention` op has no WebGPU kernel).
 * - `Loop` itself has no WebGPU kernel: it runs on the CPU provider as control flow, and the
 *   nodes of its body (the matrix products and the softmax) are placed on the GPU.
 * - Queries are blocked, keys are not: each block sees every key, so no online-softmax
 *   rescaling is needed and the result equals the one-shot softmax exactly.
 *
 * Several (query, keysᵀ) pairs may be given: their products are summed into the scores. MLA
 * uses that to keep its shared RoPE key [rope, T] apart from the per-head keys instead of
 * copying it into every head.
 */
import { GraphBuilder, attr } from './graph-builder.ts';
import { DataType, type DataTypeCode } from './onnx-proto.ts';

/**
 * Scores per block (elements). 2^25 fp32 values are 128 MB; onnxruntime keeps a few such
 * tensors alive inside a loop body. A block is never smaller than one query.
 */
export const ATTENTION_SCORE_BUDGET = 2 ** 25;

export interface AttentionSpec {
  /**
   * Pairs whose products q·kᵀ add up to the scores: q [heads, queries, d] (scaled already),
   * kᵀ [heads or 1, d, keys] or [d, keys] (shared by all heads).
   */
  readonly scores: readonly { readonly query: string; readonly keysT: string }[];
  /** [heads or 1, keys, dv] or [keys, dv] (shared by all heads). */
  readonly values: string;
  readonly heads: number;
  /** Value width per head. */
  readonly valueWidth: number;
  /** Element type of queries, keys and values; the softmax always runs in fp32. */
  readonly dataType: DataTypeCode;
  /**
   * Causal attention: an int64 scalar holding the position of the first query (the cached
   * length), so query i sees keys 0 … position + i. Omitted: every query sees every key.
   */
  readonly firstPosition?: string;
  /** `heads`: [heads, queries, dv]. `merged`: token-major [queries, heads · dv]. */
  readonly output: 'heads' | 'merged';
  /** Prefix of every node and value this operation adds. */
  readonly name: string;
  /** Default ATTENTION_SCORE_BUDGET. */
  readonly budget?: number;
  /**
   * `budget` (default): blocks sized by the budget, in a Loop. `one`: all queries in one block,
   * no Loop, for callers whose query count is small by construction (a decode step): scores
   * then take heads × queries × keys, linear in the keys.
   */
  readonly blocks?: 'budget' | 'one';
}

const I64 = DataType.INT64;
const F32 = DataType.FLOAT;

/** Builds the operation into `g` (the outermost graph or a branch); returns the output's name. */
export function attention(g: GraphBuilder, spec: AttentionSpec): string {
  const n = spec.name;
  const i64 = (name: string, values: number[]) => g.constant(`${n}.${name}`, I64, [values.length], values);
  const [first] = spec.scores;
  if (!first) throw new Error(`${n}: attention needs at least one query/key pair`);
  const queries = g.op('Shape', [first.query], `${n}.queries`, [attr.int('start', 1), attr.int('end', 2)]);
  const keys = g.op('Shape', [first.keysT], `${n}.keys`, [attr.int('start', -1)]);
  const keyPositions = spec.firstPosition
    ? g.op('Range', [g.constant(`${n}.zero`, I64, [], [0]), g.op('Squeeze', [keys, i64('axis0', [0])], `${n}.key_count`), g.constant(`${n}.step`, I64, [], [1])], `${n}.key_positions`)
    : undefined;

  if (spec.blocks === 'one') {
    const heads = block(g, spec, spec.scores.map((s) => s.query), i64('row_start', [0]), queries, keyPositions, n);
    if (spec.output === 'heads') return heads;
    const tokenMajor = g.op('Transpose', [heads], `${n}.token_major`, [attr.ints('perm', [1, 0, 2])]);
    return g.op('Reshape', [tokenMajor, i64('merged_shape', [-1, spec.heads * spec.valueWidth])], `${n}.context`);
  }

  // Block size: as many queries as fit the budget against all keys, at least 1, at most all.
  const fit = g.op('Div', [i64('budget', [spec.budget ?? ATTENTION_SCORE_BUDGET]), g.op('Mul', [keys, i64('heads', [spec.heads])], `${n}.scores_per_query`)], `${n}.fitting_queries`);
  const one = i64('one', [1]);
  const size = g.op('Max', [g.op('Min', [fit, queries], `${n}.block_capped`), one], `${n}.block_size`);
  const blocks = g.op('Div', [g.op('Sub', [g.op('Add', [queries, size], `${n}.queries_plus_block`), one], `${n}.round_up`), size], `${n}.blocks`);
  // The last block is padded with zero queries (all-visible, finite rows) and cut off after.
  const padRows = g.op('Sub', [g.op('Mul', [blocks, size], `${n}.padded_queries`), queries], `${n}.pad_rows`);
  const pads = g.op('Concat', [i64('pads_before', [0, 0, 0, 0]), padRows, i64('pads_after', [0])], `${n}.pads`, [attr.int('axis', 0)]);
  const padded = spec.scores.map((s, k) => g.op('Pad', [s.query, pads], `${n}.query_padded${k ? `_${k}` : ''}`));

  const body = g.subgraph();
  const b = `${n}.body`;
  const local = (name: string, values: number[]) => body.constant(`${n}.${name}`, I64, [values.length], values);
  const index = body.input(`${b}.index`, I64, []);
  const going = body.input(`${b}.going`, DataType.BOOL, []);
  const start = body.op('Mul', [body.op('Unsqueeze', [index, local('axis_index', [0])], `${b}.index_1d`), size], `${b}.start`);
  const end = body.op('Add', [start, size], `${b}.end`);
  const queryAxis = local('query_axis', [1]);
  const sliced = padded.map((q, k) => body.op('Slice', [q, start, end, queryAxis], `${b}.query${k ? `_${k}` : ''}`));
  const context = block(body, spec, sliced, start, size, keyPositions, b);
  body.output(body.op('Identity', [going], `${b}.going_on`), DataType.BOOL, []);
  body.output(context, spec.dataType, [spec.heads, 'block', spec.valueWidth]);

  const trip = g.op('Squeeze', [blocks, i64('axis_blocks', [0])], `${n}.trip_count`);
  const stacked = g.op('Loop', [trip, ''], `${n}.loop`, [{ name: 'body', kind: 'graph', value: body.toGraph(`${n}.block_body`) }]); // [blocks, heads, block, dv]
  const rows = i64('rows_axis', [spec.output === 'heads' ? 1 : 0]);
  const zero = i64('row_start', [0]);
  if (spec.output === 'heads') {
    const headMajor = g.op('Transpose', [stacked], `${n}.head_major`, [attr.ints('perm', [1, 0, 2, 3])]);
    const joined = g.op('Reshape', [headMajor, i64('heads_shape', [spec.heads, -1, spec.valueWidth])], `${n}.joined`);
    return g.op('Slice', [joined, zero, queries, rows], `${n}.context`);
  }
  const tokenMajor = g.op('Transpose', [stacked], `${n}.token_major`, [attr.ints('perm', [0, 2, 1, 3])]);
  const joined = g.op('Reshape', [tokenMajor, i64('merged_shape', [-1, spec.heads * spec.valueWidth])], `${n}.joined`);
  return g.op('Slice', [joined, zero, queries, rows], `${n}.context`);
}

/**
 * One block of queries against every key: [heads, rows, dv]. `start` ([1]) is the block's first
 * row among the call's queries, `rows` ([1]) its length; `keyPositions` [keys] is set for causal
 * attention.
 */
function block(b: GraphBuilder, spec: AttentionSpec, queries: readonly string[], start: string, rows: string, keyPositions: string | undefined, prefix: string): string {
  const n = spec.name;
  const i64 = (name: string, values: number[]) => b.constant(`${n}.${name}`, I64, [values.length], values);
  let scores = '';
  spec.scores.forEach((s, k) => {
    const suffix = k ? `_${k}` : '';
    const product = b.op('MatMul', [queries[k]!, s.keysT], `${prefix}.scores_part${suffix}`);
    scores = scores ? b.op('Add', [scores, product], `${prefix}.scores_sum${suffix}`) : product;
  });
  if (keyPositions && spec.firstPosition) {
    // Query r of the block sits at firstPosition + start + r and sees keys up to there.
    const from = b.op('Add', [b.op('Unsqueeze', [spec.firstPosition, i64('axis_first', [0])], `${prefix}.first_1d`), start], `${prefix}.first_position`);
    const positions = b.op('Range', [
      b.op('Squeeze', [from, i64('axis_from', [0])], `${prefix}.from`),
      b.op('Squeeze', [b.op('Add', [from, rows], `${prefix}.to_1d`), i64('axis_to', [0])], `${prefix}.to`),
      b.constant(`${n}.position_step`, I64, [], [1]),
    ], `${prefix}.query_positions`);
    const future = b.op('Greater', [keyPositions, b.op('Unsqueeze', [positions, i64('axis_column', [1])], `${prefix}.query_column`)], `${prefix}.future`);
    scores = b.op('Where', [future, b.constant(`${n}.blocked`, spec.dataType, [], [-Infinity]), scores], `${prefix}.scores_masked`);
  }
  const f32 = spec.dataType === F32 ? scores : b.op('Cast', [scores], `${prefix}.scores_f32`, [attr.int('to', F32)]);
  const probsF32 = b.op('Softmax', [f32], `${prefix}.probs_f32`, [attr.int('axis', -1)]);
  const probs = spec.dataType === F32 ? probsF32 : b.op('Cast', [probsF32], `${prefix}.probs`, [attr.int('to', spec.dataType)]);
  return b.op('MatMul', [probs, spec.values], `${prefix}.context_heads`);
}
