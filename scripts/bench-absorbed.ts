/**
 * The absorbed MLA form's two per-head products of one layer (q_nope · W_uk per head, then the
 * attended latent · W_uv per head), in each candidate form, timed side by side in one run and
 * checked against the products computed in plain TypeScript on the weights each form holds.
 * Run: npx tsx scripts/bench-absorbed.ts [--heads 16] [--nope 128] [--rank 512] [--v 128] [--tokens 1] [--rounds 20] [--only NAME]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { attr, GraphBuilder } from '../native-models/onnx/graph-builder.ts';
import { writeModel } from '../native-models/onnx/model-writer.ts';
import { DataType } from '../native-models/onnx/onnx-proto.ts';
import { openSession, type ModelSession } from '../native-models/onnx/backend.ts';
import { int4PerHead } from '../native-models/models/kimi-vl/graphs/mla-int4.ts';
import { dequantizeInt4, int4BlockSize, quantizeInt4 } from '../native-models/quantization/int4-blocks.ts';
import { int4NBits } from '../native-models/quantization/matmul-nbits.ts';
import { uniformFloats } from '../native-models/numeric/random.ts';
import { median, spread } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    heads: { type: 'string', default: '16' },
    nope: { type: 'string', default: '128' },
    rank: { type: 'string', default: '512' },
    v: { type: 'string', default: '128' },
    tokens: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '20' },
    only: { type: 'string' },
  },
});
const H = Number(args.heads);
const NOPE = Number(args.nope);
const RANK = Number(args.rank);
const V = Number(args.v);
const S = Number(args.tokens);
const F32 = DataType.FLOAT;
const I64 = DataType.INT64;

const rand = (n: number, seed: number, scale = 0.05) => uniformFloats(n, seed, scale);
// W_uk [H, nope, rank] and W_uv [H, rank, v], as x · W_h.
const wk = rand(H * NOPE * RANK, 1);
const wv = rand(H * RANK * V, 2);
const transposeHeads = (w: Float32Array, rows: number, cols: number) => {
  const o = new Float32Array(w.length);
  for (let h = 0; h < H; h++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) o[h * rows * cols + c * rows + r] = w[h * rows * cols + r * cols + c]!;
  return o;
};

interface Built {
  /** [H, S, rank] */
  readonly qLatent: string;
  /** [S, H · v] */
  readonly context: string;
  /** The weights the form multiplies by, as [H, rows, cols] fp32 (for the reference). */
  readonly wk: () => Float32Array;
  readonly wv: () => Float32Array;
}
type Form = { readonly name: string; readonly build: (g: GraphBuilder, q: string, c: string) => Built };

const fp32Weight = (g: GraphBuilder, name: string, dims: number[], values: Float32Array) =>
  g.weight({ name, dims, dataType: F32, produce: async function* () { yield values; } });

/** [H, S, cols] → [S, H · cols] */
const tokenMajor = (g: GraphBuilder, x: string, cols: number, name: string) =>
  g.op('Reshape', [g.op('Transpose', [x], `${name}.t`, [attr.ints('perm', [1, 0, 2])]), g.constant(`${name}.shape`, I64, [2], [0, H * cols])], name);

/** The int4 values of [H, rows, cols] as both int4 forms hold them: each head's W_hᵀ in blocks along rows. */
function int4Back(w: Float32Array, rows: number, cols: number) {
  const quantised = quantizeInt4(transposeHeads(w, rows, cols), H * cols, rows, { blockSize: int4BlockSize(rows) });
  return { quantised, back: transposeHeads(dequantizeInt4(quantised), cols, rows) };
}

const forms: Form[] = [];

forms.push({
  name: 'int4 per head (16 MatMulNBits)',
  build: (g, q, c) => {
    const k = int4PerHead(g, 'k', { heads: H, rows: NOPE, cols: RANK, source: async function* () { yield transposeHeads(wk, NOPE, RANK); }, accuracyLevel: 0 });
    const v = int4PerHead(g, 'v', { heads: H, rows: RANK, cols: V, source: async function* () { yield transposeHeads(wv, RANK, V); }, accuracyLevel: 0 });
    return { qLatent: k.apply(q, 'q_latent', 'heads'), context: v.apply(c, 'context', 'tokens'), wk: () => int4Back(wk, NOPE, RANK).back, wv: () => int4Back(wv, RANK, V).back };
  },
});

/** The same products inside an If's branch, as the int4 graph had them: the If binds every initializer they read on every run. */
forms.push({
  name: 'int4 per head, inside an If branch',
  build: (g, q, c) => {
    const k = int4PerHead(g, 'k', { heads: H, rows: NOPE, cols: RANK, source: async function* () { yield transposeHeads(wk, NOPE, RANK); }, accuracyLevel: 0 });
    const v = int4PerHead(g, 'v', { heads: H, rows: RANK, cols: V, source: async function* () { yield transposeHeads(wv, RANK, V); }, accuracyLevel: 0 });
    const never = g.op('Equal', [g.op('Shape', [q], 'q_shape'), g.constant('no_shape', I64, [3], [0, 0, 0])], 'never_all');
    const condition = g.op('ReduceMin', [g.op('Cast', [never], 'never_i64', [attr.int('to', I64)])], 'never_min', [attr.int('keepdims', 0)]);
    const taken = g.subgraph();
    taken.output(taken.op('Identity', [k.apply(q, 'q_latent', 'heads', taken)], 'q_latent_out_b'), F32, [H, 'tokens', RANK]);
    taken.output(taken.op('Identity', [v.apply(c, 'context', 'tokens', taken)], 'context_out_b'), F32, ['tokens', H * V]);
    const other = g.subgraph();
    other.output(other.constant('q_none', F32, [H, 0, RANK], []), F32, [H, 0, RANK]);
    other.output(other.constant('c_none', F32, [0, H * V], []), F32, [0, H * V]);
    const [qLatent, context] = g.node('If', [g.op('Cast', [condition], 'never', [attr.int('to', DataType.BOOL)])], 'forms', {
      outputs: 2,
      attrs: [
        { name: 'then_branch', kind: 'graph', value: other.toGraph('other') },
        { name: 'else_branch', kind: 'graph', value: taken.toGraph('taken') },
      ],
    }) as [string, string];
    return { qLatent, context, wk: () => int4Back(wk, NOPE, RANK).back, wv: () => int4Back(wv, RANK, V).back };
  },
});

forms.push({
  name: 'fp32 batched MatMul',
  build: (g, q, c) => {
    const k = fp32Weight(g, 'wk', [H, NOPE, RANK], wk);
    const v = fp32Weight(g, 'wv', [H, RANK, V], wv);
    return { qLatent: g.op('MatMul', [q, k], 'q_latent'), context: tokenMajor(g, g.op('MatMul', [c, v], 'context_heads'), V, 'context'), wk: () => wk, wv: () => wv };
  },
});

forms.push({
  name: 'no product (the run itself)',
  build: (g, q, c) => {
    const qLatent = g.op('Tile', [q, g.constant('tile', I64, [3], [1, 1, RANK / NOPE])], 'q_latent');
    const cut = g.op('Slice', [c, g.constant('from', I64, [1], [0]), g.constant('to', I64, [1], [V]), g.constant('axis', I64, [1], [2])], 'cut');
    return { qLatent, context: tokenMajor(g, cut, V, 'context'), wk: () => wk, wv: () => wv };
  },
});

/**
 * Every head's matrix in one MatMulNBits ([H · cols, rows]: the per-head matrices stacked, the
 * same int4 blocks) and each (head, token) row multiplied by all of them; the head's own block is
 * then picked out (a diagonal Slice). H times the arithmetic, one node.
 */
forms.push({
  name: 'int4 heads stacked, diagonal taken',
  build: (g, q, c) => {
    const stacked = (name: string, w: Float32Array, rows: number, cols: number) => {
      const { quantised, back } = int4Back(w, rows, cols);
      return { apply: int4NBits(g, name, H * cols, rows, async () => quantised, { blockSize: quantised.blockSize, accuracyLevel: 0 }), back };
    };
    const k = stacked('wk', wk, NOPE, RANK);
    const v = stacked('wv', wv, RANK, V);
    const diagonal = (x: string, rows: number, cols: number, name: string) => {
      const flat = g.op('Reshape', [x, g.constant(`${name}.rows`, I64, [2], [-1, rows])], `${name}.flat`);
      const all = (name === 'q' ? k : v).apply(flat, `${name}.all`); // [H · S, H · cols]
      const four = g.op('Reshape', [all, g.constant(`${name}.four_shape`, I64, [4], [H, -1, H, cols])], `${name}.four`);
      const pairs = g.op('Reshape', [g.op('Transpose', [four], `${name}.pairs_t`, [attr.ints('perm', [0, 2, 1, 3])]), g.constant(`${name}.pairs_shape`, I64, [3], [H * H, -1, cols])], `${name}.pairs`);
      return g.op('Slice', [pairs, g.constant(`${name}.from`, I64, [1], [0]), g.constant(`${name}.to`, I64, [1], [H * H]), g.constant(`${name}.axis`, I64, [1], [0]), g.constant(`${name}.step`, I64, [1], [H + 1])], `${name}.diagonal`); // [H, S, cols]
    };
    return { qLatent: diagonal(q, NOPE, RANK, 'q'), context: tokenMajor(g, diagonal(c, RANK, V, 'c'), V, 'context'), wk: () => k.back, wv: () => v.back };
  },
});

/** int8 codes with a scale and zero point per head and column, dequantised every run, one batched MatMul. */
forms.push({
  name: 'int8 DequantizeLinear + batched MatMul',
  build: (g, q, c) => {
    const int8 = (name: string, w: Float32Array, rows: number, cols: number) => {
      const codes = new Uint8Array(w.length);
      const scales = new Float32Array(H * cols);
      const zeros = new Uint8Array(H * cols);
      const back = new Float32Array(w.length);
      for (let h = 0; h < H; h++) {
        for (let col = 0; col < cols; col++) {
          let lo = 0;
          let hi = 0;
          for (let r = 0; r < rows; r++) {
            const x = w[(h * rows + r) * cols + col]!;
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
          }
          const scale = Math.fround((hi - lo) / 255 || 1);
          const zero = Math.min(255, Math.max(0, Math.round(-lo / scale)));
          scales[h * cols + col] = scale;
          zeros[h * cols + col] = zero;
          for (let r = 0; r < rows; r++) {
            const i = (h * rows + r) * cols + col;
            codes[i] = Math.min(255, Math.max(0, Math.round(w[i]! / scale) + zero));
            back[i] = Math.fround((codes[i]! - zero) * scale);
          }
        }
      }
      const u8 = (n: string, dims: number[], values: Uint8Array) => g.weight({ name: n, dims, dataType: DataType.UINT8, produce: async function* () { yield values; } });
      const dq = g.op('DequantizeLinear', [u8(`${name}.codes`, [H, rows, cols], codes), fp32Weight(g, `${name}.scales`, [H, 1, cols], scales), u8(`${name}.zeros`, [H, 1, cols], zeros)], `${name}.dq`, [attr.int('axis', 1), attr.int('block_size', rows)]);
      return { dq, back };
    };
    const k = int8('wk', wk, NOPE, RANK);
    const v = int8('wv', wv, RANK, V);
    return { qLatent: g.op('MatMul', [q, k.dq], 'q_latent'), context: tokenMajor(g, g.op('MatMul', [c, v.dq], 'context_heads'), V, 'context'), wk: () => k.back, wv: () => v.back };
  },
});

const work = mkdtempSync(join(tmpdir(), 'kestrel-bench-absorbed-'));
try {
  const sessions: { form: Form; session: ModelSession; built: Built }[] = [];
  for (const form of forms.filter((f) => !args.only || f.name.includes(args.only))) {
    const g = new GraphBuilder();
    const q = g.input('q', F32, [H, 'tokens', NOPE]);
    const c = g.input('c', F32, [H, 'tokens', RANK]);
    const built = form.build(g, q, c);
    g.output(g.op('Identity', [built.qLatent], 'q_latent_out'), F32, [H, 'tokens', RANK]);
    g.output(g.op('Identity', [built.context], 'context_out'), F32, ['tokens', H * V]);
    const dir = join(work, form.name.replace(/\W+/g, '-'));
    mkdirSync(dir);
    const written = await writeModel(g, dir, 'absorbed');
    sessions.push({ form, session: await openSession(written.modelFile), built });
  }
  const feeds = (seed: number) => ({
    q: { type: 'float32' as const, data: rand(H * S * NOPE, seed, 1), dims: [H, S, NOPE] },
    c: { type: 'float32' as const, data: rand(H * S * RANK, seed + 1, 1), dims: [H, S, RANK] },
  });
  // Reference: q_h · W_uk,h and c_h · W_uv,h in plain TypeScript on the weights the form holds.
  const check = feeds(3);
  const product = (x: Float32Array, w: Float32Array, rows: number, cols: number, h: number, s: number) =>
    Float32Array.from({ length: cols }, (_, col) => {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += x[(h * S + s) * rows + r]! * w[(h * rows + r) * cols + col]!;
      return sum;
    });
  for (const { form, session, built } of sessions) {
    const out = await session.run(check);
    const ql = out.q_latent_out!.data as Float32Array;
    const ctx = out.context_out!.data as Float32Array;
    let diff = 0;
    let scale = 0;
    for (let h = 0; h < H; h++) {
      for (let s = 0; s < S; s++) {
        product(check.q.data, built.wk(), NOPE, RANK, h, s).forEach((e, i) => ((diff = Math.max(diff, Math.abs(ql[(h * S + s) * RANK + i]! - e))), (scale = Math.max(scale, Math.abs(e)))));
        product(check.c.data, built.wv(), RANK, V, h, s).forEach((e, i) => ((diff = Math.max(diff, Math.abs(ctx[s * H * V + h * V + i]! - e))), (scale = Math.max(scale, Math.abs(e)))));
      }
    }
    console.log(`${form.name.padEnd(40)} vs its weights in TypeScript: max |Δ| ${(diff / scale).toExponential(2)} of the largest output`);
  }
  const rounds = Number(args.rounds);
  const times = new Map<string, number[]>();
  const steps = Array.from({ length: 50 }, (_, i) => feeds(10 + 2 * i));
  for (let r = 0; r < rounds; r++) {
    for (const { form, session } of sessions) {
      const t0 = performance.now();
      for (const step of steps) await session.run(step);
      (times.get(form.name) ?? times.set(form.name, []).get(form.name)!).push(((performance.now() - t0) / steps.length) * 1000);
    }
  }
  const base = median(times.get(sessions[0]!.form.name)!);
  console.log(`${H} heads, nope ${NOPE}, rank ${RANK}, v ${V}, ${S} token(s): µs per run of both products over ${rounds} rounds of 50, median (range), and vs ${sessions[0]!.form.name}`);
  for (const [name, t] of times) console.log(`  ${name.padEnd(40)} ${median(t).toFixed(1).padStart(8)} (${spread(t, 1)})  ${(median(t) / base).toFixed(2)}×`);
  for (const { session } of sessions) await session.release();
} finally {
  rmSync(work, { recursive: true, force: true });
}
