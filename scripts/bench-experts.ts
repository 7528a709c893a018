/**
 * One MoE layer's routed experts in each candidate form, timed side by side in one run (decode:
 * one token; prefill: many), each checked against the experts computed in plain TypeScript on
 * the dequantised weights.
 * Run: npx tsx scripts/bench-experts.ts [--hidden 1024] [--intermediate 512] [--experts 64] [--top 6] [--prefill 512] [--rounds 5] [--only NAME] [--device cpu|webgpu|cuda]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { attr, GraphBuilder } from '../native-models/onnx/graph-builder.ts';
import { writeModel } from '../native-models/onnx/model-writer.ts';
import { DataType } from '../native-models/onnx/onnx-proto.ts';
import { openSession, type ModelSession } from '../native-models/onnx/backend.ts';
import { dequantizeInt4, quantizeInt4, type Int4Weight } from '../native-models/quantization/int4-blocks.ts';
import { int4ExpertsPerExpert } from '../native-models/quantization/int4-experts.ts';
import { uniformFloats } from '../native-models/numeric/random.ts';
import { float16ToFloat32, float32ToFloat16 } from '../native-models/numeric/half.ts';
import { median, spread } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    hidden: { type: 'string', default: '1024' },
    intermediate: { type: 'string', default: '512' },
    experts: { type: 'string', default: '64' },
    top: { type: 'string', default: '6' },
    prefill: { type: 'string', default: '512' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string' },
    device: { type: 'string', default: 'cpu' },
  },
});
const D = Number(args.hidden);
const I = Number(args.intermediate);
const E = Number(args.experts);
const K = Number(args.top);
const T = Number(args.prefill);
const BS = 64;
const F32 = DataType.FLOAT;
const F16 = DataType.FLOAT16;
const U8 = DataType.UINT8;
const I64 = DataType.INT64;

const rand = (n: number, seed: number, scale = 0.05) => uniformFloats(n, seed, scale);

// fc1 rows per expert: gate (I rows) then up (I rows); fc2 [D, I].
console.log(`experts: ${E} × (fc1 [${2 * I}, ${D}] + fc2 [${D}, ${I}]), top-${K}, int4 blocks of ${BS}`);
const q1: Int4Weight[] = [];
const q2: Int4Weight[] = [];
for (let e = 0; e < E; e++) {
  const h = (q: Int4Weight) => ({ ...q, scales: float16ToFloat32(float32ToFloat16(q.scales)) });
  q1.push(h(quantizeInt4(rand(2 * I * D, 1000 + e), 2 * I, D, { blockSize: BS, symmetric: true })));
  q2.push(h(quantizeInt4(rand(D * I, 2000 + e), D, I, { blockSize: BS, symmetric: true })));
}
const w1 = q1.map(dequantizeInt4);
/** fc2 transposed ([I, D], blocks along D): GatherBlockQuantized gathers packed uint8 only along axis 0. */
const transpose = (w: Float32Array, rows: number, cols: number) => {
  const o = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) o[c * rows + r] = w[r * cols + c]!;
  return o;
};
const w2 = q2.map(dequantizeInt4);
const q2t = w2.map((w) => quantizeInt4(transpose(w, D, I), I, D, { blockSize: BS, symmetric: true }));

/** QMoE's fc1 interleaves gate and up rows (swiglu_fusion 1). */
const interleave = (q: Int4Weight): Int4Weight => {
  const row = q.k / 2;
  const srow = q.blocks;
  const packed = new Uint8Array(q.packed.length);
  const scales = new Float32Array(q.scales.length);
  for (let i = 0; i < I; i++) {
    packed.set(q.packed.subarray(i * row, (i + 1) * row), 2 * i * row);
    packed.set(q.packed.subarray((I + i) * row, (I + i + 1) * row), (2 * i + 1) * row);
    scales.set(q.scales.subarray(i * srow, (i + 1) * srow), 2 * i * srow);
    scales.set(q.scales.subarray((I + i) * srow, (I + i + 1) * srow), (2 * i + 1) * srow);
  }
  return { ...q, packed, scales };
};
const interleaveF = (w: Float32Array): Float32Array => {
  const o = new Float32Array(w.length);
  for (let i = 0; i < I; i++) {
    o.set(w.subarray(i * D, (i + 1) * D), 2 * i * D);
    o.set(w.subarray((I + i) * D, (I + i + 1) * D), (2 * i + 1) * D);
  }
  return o;
};
/** [E, rows, cols] per expert → [rows, E, cols] (expert-minor within each row). */
const rowMajorOverExperts = (parts: readonly (Uint8Array | Float32Array)[], rows: number): (Uint8Array | Float32Array)[] => {
  const cols = parts[0]!.length / rows;
  const out = new (parts[0]!.constructor as Float32ArrayConstructor)(parts.length * rows * cols);
  for (let r = 0; r < rows; r++) for (let e = 0; e < E; e++) out.set(parts[e]!.subarray(r * cols, (r + 1) * cols) as Float32Array, (r * E + e) * cols);
  return [out];
};

type Form = { name: string; build: (g: GraphBuilder, x: string, ids: string, weights: string, logits: string) => string; decodeOnly?: boolean };
const bytes = (name: string, dims: number[], parts: () => (Uint8Array | Float32Array)[], dataType: number = U8) =>
  (g: GraphBuilder) => g.weight({ name, dims, dataType: dataType as typeof U8, produce: async function* () { yield* parts(); } });

const moeAttrs = [attr.int('k', K), attr.string('activation_type', 'swiglu'), attr.int('swiglu_fusion', 1), attr.int('normalize_routing_weights', 1), attr.float('activation_alpha', 1), attr.float('activation_beta', 0), attr.float('swiglu_limit', 3.4e38)];

const i64 = (g: GraphBuilder, name: string, v: number[]) => g.constant(name, I64, [v.length], v);

/** Gathered int4 blocks of the chosen experts, as the two forms below consume them. */
function gathered(g: GraphBuilder, ids: string) {
  const fc1 = bytes('fc1.q4', [E, 2 * I, D / 2], () => q1.map((q) => q.packed))(g);
  const fc1s = bytes('fc1.scales', [E, 2 * I, D / BS], () => q1.map((q) => q.scales), F32)(g);
  const fc2 = bytes('fc2.q4', [D, E, I / 2], () => rowMajorOverExperts(q2.map((q) => q.packed), D))(g);
  const fc2s = bytes('fc2.scales', [D, E, I / BS], () => rowMajorOverExperts(q2.map((q) => q.scales), D), F32)(g);
  return { fc1, fc1s, fc2, fc2s, ids };
}

/** gate/up [.., k·2I] → weighted SwiGLU [1, k·I] */
function swigluWeighted(g: GraphBuilder, h: string, weights: string, p: string) {
  const split = g.op('Reshape', [h, i64(g, `${p}.kv`, [K, 2, I])], `${p}.fc1_split`);
  const [gate, up] = g.node('Split', [split, i64(g, `${p}.halves`, [1, 1])], `${p}.gate_up`, { outputs: 2, attrs: [attr.int('axis', 1)] }) as [string, string];
  const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate], `${p}.sig`)], `${p}.silu`), up], `${p}.act`);
  const w = g.op('Reshape', [weights, i64(g, `${p}.wshape`, [K, 1, 1])], `${p}.w`);
  return g.op('Reshape', [g.op('Mul', [act, w], `${p}.weighted`), i64(g, `${p}.flat`, [1, K * I])], `${p}.fc2_in`);
}

const forms: Form[] = [
  {
    name: 'QMoE fp32',
    build: (g, x, _ids, _w, logits) => {
      const a = bytes('fc1.q4', [E, 2 * I, D / 2], () => q1.map((q) => interleave(q).packed))(g);
      const as = bytes('fc1.scales', [E, 2 * I, D / BS], () => q1.map((q) => interleave(q).scales), F32)(g);
      const b = bytes('fc2.q4', [E, D, I / 2], () => q2.map((q) => q.packed))(g);
      const bs = bytes('fc2.scales', [E, D, I / BS], () => q2.map((q) => q.scales), F32)(g);
      return g.op('QMoE', [x, logits, a, as, '', b, bs], 'y', [attr.int('expert_weight_bits', 4), attr.int('block_size', BS), ...moeAttrs], 'com.microsoft');
    },
  },
  {
    name: 'QMoE fp16',
    build: (g, x, _ids, _w, logits) => {
      const a = bytes('fc1.q4', [E, 2 * I, D / 2], () => q1.map((q) => interleave(q).packed))(g);
      const as = bytes('fc1.scales', [E, 2 * I, D / BS], () => q1.map((q) => interleave(q).scales), F16)(g);
      const b = bytes('fc2.q4', [E, D, I / 2], () => q2.map((q) => q.packed))(g);
      const bs = bytes('fc2.scales', [E, D, I / BS], () => q2.map((q) => q.scales), F16)(g);
      const half = (v: string, n: string) => g.op('Cast', [v], n, [attr.int('to', F16)]);
      const y = g.op('QMoE', [half(x, 'x16'), half(logits, 'l16'), a, as, '', b, bs], 'y16', [attr.int('expert_weight_bits', 4), attr.int('block_size', BS), ...moeAttrs], 'com.microsoft');
      return g.op('Cast', [y], 'y', [attr.int('to', F32)]);
    },
  },
  {
    name: 'MoE fp32 (fp32 weights)',
    build: (g, x, _ids, _w, logits) => {
      const a = bytes('fc1', [E, 2 * I, D], () => w1.map(interleaveF), F32)(g);
      const b = bytes('fc2', [E, D, I], () => w2, F32)(g);
      return g.op('MoE', [x, logits, a, '', b], 'y', moeAttrs, 'com.microsoft');
    },
  },
  {
    name: 'Gather + MatMulNBits',
    decodeOnly: true,
    build: (g, x, ids, weights) => {
      const w = gathered(g, ids);
      const codes1 = g.op('Reshape', [g.op('Gather', [w.fc1, ids], 'fc1.gather', [attr.int('axis', 0)]), i64(g, 'fc1.shape', [K * 2 * I, D / BS, BS / 2])], 'fc1.b');
      const scales1 = g.op('Reshape', [g.op('Gather', [w.fc1s, ids], 'fc1s.gather', [attr.int('axis', 0)]), i64(g, 'fc1s.shape', [-1])], 'fc1.s');
      const h = g.op('MatMulNBits', [x, codes1, scales1], 'fc1', [attr.int('K', D), attr.int('N', K * 2 * I), attr.int('bits', 4), attr.int('block_size', BS), attr.int('accuracy_level', 4)], 'com.microsoft');
      const a = swigluWeighted(g, h, weights, 'mid');
      const codes2 = g.op('Reshape', [g.op('Gather', [w.fc2, ids], 'fc2.gather', [attr.int('axis', 1)]), i64(g, 'fc2.shape', [D, (K * I) / BS, BS / 2])], 'fc2.b');
      const scales2 = g.op('Reshape', [g.op('Gather', [w.fc2s, ids], 'fc2s.gather', [attr.int('axis', 1)]), i64(g, 'fc2s.shape', [-1])], 'fc2.s');
      return g.op('MatMulNBits', [a, codes2, scales2], 'y', [attr.int('K', K * I), attr.int('N', D), attr.int('bits', 4), attr.int('block_size', BS), attr.int('accuracy_level', 4)], 'com.microsoft');
    },
  },
  {
    name: 'GatherBlockQuantized + Gemm',
    decodeOnly: true,
    build: (g, x, ids, weights) => {
      const w = gathered(g, ids);
      const gbq = (data: string, scales: string, axis: number, name: string) =>
        g.op('GatherBlockQuantized', [data, ids, scales], name, [attr.int('gather_axis', axis), attr.int('quantize_axis', 2), attr.int('block_size', BS), attr.int('bits', 4)], 'com.microsoft');
      const fc1 = g.op('Reshape', [gbq(w.fc1, w.fc1s, 0, 'fc1.dq'), i64(g, 'fc1.shape', [K * 2 * I, D])], 'fc1.w');
      const h = g.op('Gemm', [x, fc1], 'fc1', [attr.int('transB', 1)]);
      const a = swigluWeighted(g, h, weights, 'mid');
      const fc2t = bytes('fc2t.q4', [E, I, D / 2], () => q2t.map((q) => q.packed))(g);
      const fc2ts = bytes('fc2t.scales', [E, I, D / BS], () => q2t.map((q) => q.scales), F32)(g);
      const fc2 = g.op('Reshape', [gbq(fc2t, fc2ts, 0, 'fc2.dq'), i64(g, 'fc2.shape', [K * I, D])], 'fc2.w');
      return g.op('MatMul', [a, fc2], 'y');
    },
  },
];

forms.push({
  name: 'If + MatMulNBits per expert',
  build: (g, x, _ids, _w, logits) => {
    const experts = int4ExpertsPerExpert(g, 'experts', {
      experts: E, hidden: D, intermediate: I, blockSize: BS,
      // Re-quantising the dequantised values gives back the same blocks (int4-blocks.test.ts).
      // fc1 as gate rows, then up rows (the per-expert form's halves).
      fc1: async function* () { yield* w1; },
      fc2: async function* () { yield* w2; },
    });
    return g.op('Identity', [experts(x, g.op('Exp', [logits], 'routing'), 'moe')], 'y');
  },
});

const work = mkdtempSync(join(tmpdir(), 'kestrel-bench-experts-'));
try {
  const sessions: { form: Form; session: ModelSession; load: number }[] = [];
  for (const form of forms.filter((f) => !args.only || f.name.includes(args.only))) {
    const g = new GraphBuilder();
    const x = g.input('x', F32, ['tokens', D]);
    const ids = g.input('ids', I64, [K]);
    const weights = g.input('weights', F32, [K]);
    const logits = g.input('logits', F32, ['tokens', E]);
    g.output(form.build(g, x, ids, weights, logits), F32, ['tokens', D]);
    const dir = join(work, form.name.replace(/\W+/g, '-'));
    mkdirSync(dir);
    const written = await writeModel(g, dir, 'experts');
    const t0 = performance.now();
    const session = await openSession(written.modelFile, { device: args.device as 'cpu' | 'webgpu' | 'cuda' });
    sessions.push({ form, session, load: performance.now() - t0 });
  }

  const chosen = [3, 17, 42, 8, 60, 29].slice(0, K).map((e) => e % E);
  const routeW = [0.3, 0.1, 0.2, 0.15, 0.15, 0.1].slice(0, K);
  /** Token t chooses the experts `chosen` shifted by first + t. */
  const feeds = (tokens: number, first = 0) => {
    const x = rand(tokens * D, 7, 1);
    const logits = new Float32Array(tokens * E).fill(-Infinity);
    for (let t = 0; t < tokens; t++) chosen.forEach((e, j) => (logits[t * E + (e + first + t) % E] = Math.log(routeW[j]!)));
    return {
      x: { type: 'float32' as const, data: x, dims: [tokens, D] },
      ids: { type: 'int64' as const, data: BigInt64Array.from(chosen, (e) => BigInt((e + first) % E)), dims: [K] },
      weights: { type: 'float32' as const, data: Float32Array.from(routeW), dims: [K] },
      logits: { type: 'float32' as const, data: logits, dims: [tokens, E] },
    };
  };
  // Reference for one token: Σ_j w_j · fc2_e(silu(gate_e x) · up_e x).
  const one = feeds(1);
  const expected = new Float32Array(D);
  chosen.forEach((e, j) => {
    const h = new Float32Array(2 * I);
    for (let r = 0; r < 2 * I; r++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += w1[e]![r * D + c]! * one.x.data[c]!;
      h[r] = s;
    }
    const a = Float32Array.from({ length: I }, (_, i) => (h[i]! / (1 + Math.exp(-h[i]!))) * h[I + i]!);
    for (let r = 0; r < D; r++) {
      let s = 0;
      for (let c = 0; c < I; c++) s += w2[e]![r * I + c]! * a[c]!;
      expected[r]! += routeW[j]! * s;
    }
  });
  const scale = Math.max(...expected.map(Math.abs));
  for (const { form, session, load } of sessions) {
    const y = (await session.run(one)).y!.data as Float32Array;
    let diff = 0;
    for (let i = 0; i < D; i++) diff = Math.max(diff, Math.abs(y[i]! - expected[i]!));
    console.log(`${form.name.padEnd(30)} session ${load.toFixed(0).padStart(5)} ms; one token vs reference: max |Δ| ${(diff / scale).toExponential(2)} of max |y|`);
  }

  const rounds = Number(args.rounds);
  const decode = new Map<string, number[]>();
  const prefill = new Map<string, number[]>();
  const many = feeds(T);
  // Each decode step chooses other experts, as a model's steps do: 20 steps read nearly all 64
  // (48 MB of int4 at the default widths), so the weights mostly come from memory, not cache.
  const steps = Array.from({ length: 20 }, (_, s) => feeds(1, 3 * s));
  for (let r = 0; r < rounds; r++) {
    for (const { form, session } of sessions) {
      const t0 = performance.now();
      for (const step of steps) await session.run(step);
      (decode.get(form.name) ?? decode.set(form.name, []).get(form.name)!).push((performance.now() - t0) / steps.length);
      if (!form.decodeOnly && T > 0) {
        const t1 = performance.now();
        await session.run(many);
        (prefill.get(form.name) ?? prefill.set(form.name, []).get(form.name)!).push(performance.now() - t1);
      }
    }
  }
  const base = median(decode.get(sessions[0]!.form.name)!);
  console.log(`\ndecode (1 token), ms per layer over ${rounds} rounds of 20 (median, range), and median vs ${sessions[0]!.form.name}:`);
  for (const [name, v] of decode) console.log(`  ${name.padEnd(30)} ${median(v).toFixed(2).padStart(7)} (${spread(v, 2)})  ${(base / median(v)).toFixed(2)}×`);
  if (T > 0) {
    console.log(`prefill (${T} tokens), ms per layer:`);
    for (const [name, v] of prefill) console.log(`  ${name.padEnd(30)} ${median(v).toFixed(1).padStart(7)} (${spread(v, 2)})`);
  }
  for (const { session } of sessions) await session.release();
} finally {
  rmSync(work, { recursive: true, force: true });
}
