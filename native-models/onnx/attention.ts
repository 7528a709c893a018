/**
 * Attention as one graph operation, shared by the language model and the vision tower:
 * softmax(q·kᵀ + mask)·v computed one block of queries at a time inside an ONNX `Loop`, so the
 * scores that exist at once stay under a fixed budget whatever the sequence length. Without
 * blocks an 8k-token prompt on a 4-head model holds 4 × 8k × 8k scores per layer (1 GB in fp32,
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
 * The sizes and positions (int64 bookkeeping, which onnxruntime keeps on the CPU) are worked
 * out once per call in an `AttentionPlan` that every layer shares; their nodes are named
 * `….plan.…`. Several (query, keysᵀ) pairs may be given: their products are summed into the
 * scores. MLA uses that to keep its shared RoPE key [rope, T] apart from the per-head keys
 * instead of copying it into every head.
 */
import { GraphBuilder, attr } from './graph-builder.ts';
import { DataType, type DataTypeCode } from './onnx-proto.ts';

/**
 * Scores per block (elements). 2^25 fp32 values are 128 MB; onnxruntime keeps a few such
 * tensors alive inside a loop body. A block is never smaller than one query.
 */
export const ATTENTION_SCORE_BUDGET = 2 ** 25;

/** What a call's attention layers share: int64 sizes ([1]) and positions. */
export interface AttentionPlan {
  readonly name: string;
  readonly heads: number;
  readonly queries: string;
  readonly keys: string;
  /** Queries per block: as many as fit the budget against every key, at least 1, at most all. */
  readonly blockSize: string;
  /** Loop trip count (scalar). */
  readonly blocks: string;
  /** Pad of a [heads, queries, d] tensor up to whole blocks (zero queries, cut off after). */
  readonly pads: string;
  /** Causal attention: the first query's position ([1], the cached length), every key's [keys], every query's [queries]. */
  readonly causal?: { readonly first: string; readonly keyPositions: string; readonly queryPositions: string };
}

const I64 = DataType.INT64;
const F32 = DataType.FLOAT;

/**
 * The plan for `queries` queries against `keys` keys ([1] int64 each) over `heads` heads.
 * `firstPosition` ([1]) makes it causal: query i sits at firstPosition + i and sees keys up to
 * there.
 */
export function attentionPlan(g: GraphBuilder, opts: { readonly queries: string; readonly keys: string; readonly heads: number; readonly firstPosition?: string; readonly budget?: number; readonly name: string }): AttentionPlan {
  const n = opts.name;
  const i64 = (name: string, values: number[]) => g.constant(`${n}.${name}`, I64, [values.length], values);
  const scalar = (value: number, name: string) => g.constant(`${n}.${name}`, I64, [], [value]);
  const one = i64('one', [1]);
  const fit = g.op('Div', [i64('budget', [opts.budget ?? ATTENTION_SCORE_BUDGET]), g.op('Mul', [opts.keys, i64('heads', [opts.heads])], `${n}.scores_per_query`)], `${n}.fitting_queries`);
  const blockSize = g.op('Max', [g.op('Min', [fit, opts.queries], `${n}.block_capped`), one], `${n}.block_size`);
  const blocks = g.op('Div', [g.op('Sub', [g.op('Add', [opts.queries, blockSize], `${n}.queries_plus_block`), one], `${n}.round_up`), blockSize], `${n}.blocks`);
  const padRows = g.op('Sub', [g.op('Mul', [blocks, blockSize], `${n}.padded_queries`), opts.queries], `${n}.pad_rows`);
  const pads = g.op('Concat', [i64('pads_before', [0, 0, 0, 0]), padRows, i64('pads_after', [0])], `${n}.pads`, [attr.int('axis', 0)]);
  const trip = g.op('Squeeze', [blocks, i64('axis_blocks', [0])], `${n}.trip_count`);
  const plan = { name: n, heads: opts.heads, queries: opts.queries, keys: opts.keys, blockSize, blocks: trip, pads };
  if (!opts.firstPosition) return plan;
  const axis0 = i64('axis0', [0]);
  const first = g.op('Squeeze', [opts.firstPosition, axis0], `${n}.first_position`);
  const keyPositions = g.op('Range', [scalar(0, 'zero'), g.op('Squeeze', [opts.keys, axis0], `${n}.key_count`), scalar(1, 'step')], `${n}.key_positions`);
  const last = g.op('Add', [first, g.op('Squeeze', [opts.queries, axis0], `${n}.query_count`)], `${n}.query_end`);
  const queryPositions = g.op('Range', [first, last, scalar(1, 'query_step')], `${n}.query_positions`);
  return { ...plan, causal: { first: opts.firstPosition, keyPositions, queryPositions } };
}

export interface AttentionSpec {
  readonly plan: AttentionPlan;
  /**
   * Pairs whose products q·kᵀ add up to the scores: q [heads, queries, d] (scaled already),
   * kᵀ [heads or 1, d, keys] or [d, keys] (shared by all heads).
   */
  readonly scores: readonly { readonly query: string; readonly keysT: string }[];
  /** [heads or 1, keys, dv] or [keys, dv] (shared by all heads). */
  readonly values: string;
  /** Value width per head. */
  readonly valueWidth: number;
  /** Element type of queries, keys and values; the softmax always runs in fp32. */
  readonly dataType: DataTypeCode;
  /** `heads`: [heads, queries, dv]. `merged`: token-major [queries, heads · dv]. */
  readonly output: 'heads' | 'merged';
  /** Prefix of every node and value this operation adds. */
  readonly name: string;
  /**
   * `budget` (default): blocks sized by the plan, in a Loop. `one`: all queries in one block,
   * no Loop, for callers whose query count is small by construction (a decode step): scores
   * then take heads × queries × keys, linear in the keys.
   */
  readonly blocks?: 'budget' | 'one';
}

/** Builds the operation into `g` (the outermost graph or a branch); returns the output's name. */
export function attention(g: GraphBuilder, spec: AttentionSpec): string {
  const { plan, name: n } = spec;
  const H = plan.heads;
  const i64 = (name: string, values: number[]) => g.constant(`${n}.${name}`, I64, [values.length], values);
  if (spec.scores.length === 0) throw new Error(`${n}: attention needs at least one query/key pair`);

  if (spec.blocks === 'one') {
    const future = plan.causal && g.op('Greater', [plan.causal.keyPositions, g.op('Unsqueeze', [plan.causal.queryPositions, i64('axis_column', [1])], `${n}.plan.query_column`)], `${n}.plan.future`);
    const heads = block(g, spec, spec.scores.map((s) => s.query), future, n);
    if (spec.output === 'heads') return heads;
    const tokenMajor = g.op('Transpose', [heads], `${n}.token_major`, [attr.ints('perm', [1, 0, 2])]);
    return g.op('Reshape', [tokenMajor, i64('merged_shape', [-1, H * spec.valueWidth])], `${n}.context`);
  }

  const padded = spec.scores.map((s, k) => g.op('Pad', [s.query, plan.pads], `${n}.query_padded${k ? `_${k}` : ''}`));
  const body = g.subgraph();
  const b = `${n}.body`;
  const local = (name: string, values: number[]) => body.constant(`${n}.${name}`, I64, [values.length], values);
  const index = body.input(`${b}.index`, I64, []);
  const going = body.input(`${b}.going`, DataType.BOOL, []);
  const start = body.op('Mul', [body.op('Unsqueeze', [index, local('axis_index', [0])], `${b}.plan.index`), plan.blockSize], `${b}.plan.start`);
  const end = body.op('Add', [start, plan.blockSize], `${b}.plan.end`);
  const queryAxis = local('query_axis', [1]);
  const sliced = padded.map((q, k) => body.op('Slice', [q, start, end, queryAxis], `${b}.query${k ? `_${k}` : ''}`));
  let future: string | undefined;
  if (plan.causal) {
    // Block row r sits at first + start + r and sees keys up to there.
    const from = body.op('Add', [plan.causal.first, start], `${b}.plan.from`);
    const axis0 = local('axis0', [0]);
    const positions = body.op('Range', [
      body.op('Squeeze', [from, axis0], `${b}.plan.from_scalar`),
      body.op('Squeeze', [body.op('Add', [from, plan.blockSize], `${b}.plan.to`), axis0], `${b}.plan.to_scalar`),
      body.constant(`${n}.position_step`, I64, [], [1]),
    ], `${b}.plan.query_positions`);
    future = body.op('Greater', [plan.causal.keyPositions, body.op('Unsqueeze', [positions, local('axis_column', [1])], `${b}.plan.query_column`)], `${b}.plan.future`);
  }
  const context = block(body, spec, sliced, future, b);
  body.output(body.op('Identity', [going], `${b}.plan.going_on`), DataType.BOOL, []);
  body.output(context, spec.dataType, [H, 'block', spec.valueWidth]);

  const stacked = g.op('Loop', [plan.blocks, ''], `${n}.loop`, [{ name: 'body', kind: 'graph', value: body.toGraph(`${n}.block_body`) }]); // [blocks, heads, block, dv]
  const rows = i64('rows_axis', [spec.output === 'heads' ? 1 : 0]);
  const zero = i64('row_start', [0]);
  if (spec.output === 'heads') {
    const headMajor = g.op('Transpose', [stacked], `${n}.head_major`, [attr.ints('perm', [1, 0, 2, 3])]);
    const joined = g.op('Reshape', [headMajor, i64('heads_shape', [H, -1, spec.valueWidth])], `${n}.joined`);
    return g.op('Slice', [joined, zero, plan.queries, rows], `${n}.context`);
  }
  const tokenMajor = g.op('Transpose', [stacked], `${n}.token_major`, [attr.ints('perm', [0, 2, 1, 3])]);
  const joined = g.op('Reshape', [tokenMajor, i64('merged_shape', [-1, H * spec.valueWidth])], `${n}.joined`);
  return g.op('Slice', [joined, zero, plan.queries, rows], `${n}.context`);
}

/** One block of queries against every key: [heads, rows, dv]; `future` [rows, keys] marks the keys each row may not see. */
function block(b: GraphBuilder, spec: AttentionSpec, queries: readonly string[], future: string | undefined, prefix: string): string {
  let scores = '';
  spec.scores.forEach((s, k) => {
    const suffix = k ? `_${k}` : '';
    const product = b.op('MatMul', [queries[k]!, s.keysT], `${prefix}.scores_part${suffix}`);
    scores = scores ? b.op('Add', [scores, product], `${prefix}.scores_sum${suffix}`) : product;
  });
  if (future) scores = b.op('Where', [future, b.constant(`${prefix}.blocked`, spec.dataType, [], [-Infinity]), scores], `${prefix}.scores_masked`);
  const f32 = spec.dataType === F32 ? scores : b.op('Cast', [scores], `${prefix}.scores_f32`, [attr.int('to', F32)]);
  const probsF32 = b.op('Softmax', [f32], `${prefix}.probs_f32`, [attr.int('axis', -1)]);
  const probs = spec.dataType === F32 ? probsF32 : b.op('Cast', [probsF32], `${prefix}.probs`, [attr.int('to', spec.dataType)]);
  return b.op('MatMul', [probs, spec.values], `${prefix}.context_heads`);
}
