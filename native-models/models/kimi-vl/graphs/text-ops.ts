/**
 * The operations the text graph is built from, each one function over a shared context, as
 * llama.cpp's per-architecture builders share `build_norm`, `build_ffn` and `build_attn`: the
 * context says how weights are declared (the precision, the int4 forms) and in which type the
 * activations run; RMSNorm, rotate-half RoPE and the SwiGLU MLP then each read as one step of
 * the Hugging Face modeling code. MLA attention is in mla-attention.ts, the MoE block in
 * moe-block.ts.
 *
 * Every function names its nodes under the `name` it is given, so the graph's node names (which
 * the reference tests and the kernel tables use) are the builder's, not these helpers'.
 */
import { GraphBuilder, attr } from '../../../onnx/graph-builder.ts';
import { DataType, type DataTypeCode } from '../../../onnx/onnx-proto.ts';
import { int4Linear } from '../../../quantization/matmul-nbits.ts';
import type { KimiTextConfig } from '../configuration.ts';
import type { TextGraphOptions } from './modeling-text.ts';
import type { WeightRecipe } from './weight-recipes.ts';

const F32 = DataType.FLOAT;
const I64 = DataType.INT64;

/** A Linear layer applied: Gemm, or MatMulNBits for int4. */
export type Projection = (x: string, nodeName: string) => string;

/** What every operation of one text graph shares. */
export interface TextGraphContext {
  readonly g: GraphBuilder;
  readonly t: KimiTextConfig;
  readonly opts: TextGraphOptions;
  /** The activations' type: fp16 for an fp16 import, fp32 otherwise (int4 too). */
  readonly act: DataTypeCode;
  readonly int4: boolean;
  /** int64 [−1] and [0], the axes most operations reduce or squeeze. */
  readonly axisLast: string;
  readonly axis0: string;
  /** A weight made from `recipe`: the big matrices in the activations' type, norms and the router in fp32 (`dataType`). */
  readonly weight: (name: string, dims: number[], recipe: WeightRecipe, dataType?: DataTypeCode) => string;
  /** A weight that is a checkpoint tensor as stored. */
  readonly copy: (name: string, dims: number[], tensor: string, dataType?: DataTypeCode) => string;
  /** A Linear layer's [out, in] weight, declared now, and the node applying it. */
  readonly proj: (name: string, dims: [number, number], recipe: WeightRecipe) => Projection;
  readonly copyProj: (name: string, dims: [number, number], tensor: string) => Projection;
  readonly i64: (name: string, values: number[]) => string;
  readonly scalar: (name: string, value: number, dataType?: DataTypeCode) => string;
  readonly toAct: (x: string, name: string) => string;
  readonly toF32: (x: string, name: string) => string;
  /** x · wᵀ (PyTorch's Linear layout [out, in] is what Gemm's transB expects). */
  readonly linear: (x: string, w: string, name: string) => string;
}

/** A new graph and its context; declares the `axes.*` constants every graph starts with. */
export function textGraphContext(t: KimiTextConfig, opts: TextGraphOptions): TextGraphContext {
  const g = new GraphBuilder();
  const act: DataTypeCode = opts.precision === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const int4 = opts.precision === 'int4';
  // Weights: big matrices in the chosen precision, norms and the router in fp32 (HF computes
  // both in fp32).
  const weight = (name: string, dims: number[], recipe: WeightRecipe, dataType: DataTypeCode = act) =>
    g.weight({ name: name.endsWith('bias') ? name : `${name}.weight`, dims, dataType, produce: opts.produce(recipe) });
  const linear = (x: string, w: string, name: string) => g.op('Gemm', [x, w], name, [attr.int('transB', 1)]);
  const proj = (name: string, dims: [number, number], recipe: WeightRecipe): Projection => {
    if (int4) return int4Linear(g, name, dims[0], dims[1], opts.produce(recipe), { accuracyLevel: opts.int4AccuracyLevel });
    const w = weight(name, dims, recipe);
    return (x, nodeName) => linear(x, w, nodeName);
  };
  const i64 = (name: string, values: number[]) => g.constant(name, I64, [values.length], values);
  return {
    g,
    t,
    opts,
    act,
    int4,
    axisLast: i64('axes.last', [-1]),
    axis0: i64('axes.0', [0]),
    weight,
    copy: (name, dims, tensor, dataType = act) => weight(name, dims, { kind: 'copy', tensor }, dataType),
    proj,
    copyProj: (name, dims, tensor) => proj(name, dims, { kind: 'copy', tensor }),
    i64,
    scalar: (name, value, dataType = act) => g.constant(name, dataType, [], [value]),
    toAct: (x, name) => (act === F32 ? x : g.op('Cast', [x], name, [attr.int('to', act)])),
    toF32: (x, name) => (act === F32 ? x : g.op('Cast', [x], name, [attr.int('to', F32)])),
    linear,
  };
}

/** RMSNorm in fp32 whatever the activations' type (as Hugging Face computes it), scaled by `w`. */
export function rmsNorm(c: TextGraphContext, x: string, w: string, eps: number, name: string): string {
  const { g } = c;
  const xf = c.toF32(x, `${name}.to_f32`);
  const sq = g.op('Mul', [xf, xf], `${name}.square`);
  const mean = g.op('ReduceMean', [sq, c.axisLast], `${name}.mean`, [attr.int('keepdims', 1)]);
  const std = g.op('Sqrt', [g.op('Add', [mean, c.scalar(`${name}.eps`, eps, F32)], `${name}.add_eps`)], `${name}.rms`);
  const y = g.op('Mul', [g.op('Div', [xf, std], `${name}.normalised`), w], `${name}.scaled`);
  return c.toAct(y, `${name}.to_act`);
}

/** The cos and sin of every query position's RoPE angles, and the split of a RoPE slice into halves. */
export interface RopeTables {
  readonly cos: string;
  readonly sin: string;
  readonly halves: string;
}

/** Plain rotate-half RoPE on the last axis (DeepSeek's de-interleave is folded into the weights: weight-recipes.ts). */
export function applyRope(c: TextGraphContext, rope: RopeTables, x: string, name: string): string {
  const { g } = c;
  const [a, b] = g.node('Split', [x, rope.halves], `${name}.halves`, { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];
  const rotated = g.op('Concat', [g.op('Neg', [b], `${name}.neg`), a], `${name}.rotate_half`, [attr.int('axis', -1)]);
  return g.op('Add', [g.op('Mul', [x, rope.cos], `${name}.cos`), g.op('Mul', [rotated, rope.sin], `${name}.sin`)], name);
}

/** SiLU: x · sigmoid(x). */
export function silu(c: TextGraphContext, x: string, name: string): string {
  return c.g.op('Mul', [x, c.g.op('Sigmoid', [x], `${name}.sigmoid`)], name);
}

/** SwiGLU: down(silu(gate(x)) · up(x)). */
export function swiglu(c: TextGraphContext, x: string, gate: Projection, up: Projection, down: Projection, name: string): string {
  const gated = c.g.op('Mul', [silu(c, gate(x, `${name}.gate_proj`), `${name}.silu`), up(x, `${name}.up_proj`)], `${name}.gated`);
  return down(gated, `${name}.down_proj`);
}

/**
 * A dense SwiGLU MLP of `width` whose checkpoint tensors are `<hf>.gate_proj.weight`, `up_proj`
 * and `down_proj`: the dense layers' MLP and the MoE layers' shared experts.
 */
export function denseMlp(c: TextGraphContext, x: string, width: number, hf: string, name: string): string {
  const D = c.t.hiddenSize;
  const gate = c.copyProj(`${name}.gate_proj`, [width, D], `${hf}.gate_proj.weight`);
  const up = c.copyProj(`${name}.up_proj`, [width, D], `${hf}.up_proj.weight`);
  const down = c.copyProj(`${name}.down_proj`, [D, width], `${hf}.down_proj.weight`);
  return swiglu(c, x, gate, up, down, name);
}
