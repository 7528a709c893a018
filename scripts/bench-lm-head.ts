/**
 * One token through a Kimi-VL-sized lm_head (163840 × 1024), the largest single weight of a
 * decode step: fp32 Gemm against int4 MatMulNBits (accuracy level 4) at blocks of 32, 64 and 128,
 * asymmetric (what the importer writes) and symmetric, each in its own session, the forms taking
 * turns; median ms per token and the speed against fp32, paired per round. Tells whether int4's
 * one-token kernel keeps up with memory here (fp32's reads 671 MB, int4's 84 MB at block 64).
 * Run: npx tsx scripts/bench-lm-head.ts [--rows 163840] [--rounds 7]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../test/harness/tiny-checkpoint.ts';
import { openSession, type ModelSession } from '../native-models/onnx/backend.ts';
import { GraphBuilder, attr } from '../native-models/onnx/graph-builder.ts';
import { writeModel } from '../native-models/onnx/model-writer.ts';
import { DataType } from '../native-models/onnx/onnx-proto.ts';
import { quantizeInt4 } from '../native-models/quantization/int4-blocks.ts';
import { int4NBits } from '../native-models/quantization/matmul-nbits.ts';
import { median } from './stats.ts';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '163840' }, rounds: { type: 'string', default: '7' } } });
const N = Number(args.rows);
const K = 1024;
const weight = Float32Array.from({ length: N * K }, (_, i) => Math.sin(i * 0.37) * 0.05);

const forms: Record<string, (g: GraphBuilder, x: string) => string> = {
  'fp32 Gemm': (g, x) => g.op('Gemm', [x, g.weight({ name: 'w', dims: [N, K], dataType: DataType.FLOAT, produce: async function* () { yield weight; } })], 'y', [attr.int('transB', 1)]),
};
for (const blockSize of [32, 64, 128]) {
  for (const symmetric of [false, true]) {
    forms[`int4 block ${blockSize} ${symmetric ? 'symmetric' : 'asymmetric'}`] = (g, x) => {
      const q = quantizeInt4(weight, N, K, { blockSize, symmetric });
      return int4NBits(g, 'w', N, K, async () => q, { blockSize, symmetric, accuracyLevel: 4 })(x, 'y');
    };
  }
}

const work = tempDir('bench-lm-head');
const sessions: [string, ModelSession][] = [];
try {
  for (const [i, [name, build]] of Object.entries(forms).entries()) {
    const g = new GraphBuilder();
    g.output(build(g, g.input('x', DataType.FLOAT, [1, K])), DataType.FLOAT, [1, N]);
    const dir = join(work.dir, String(i));
    mkdirSync(dir);
    sessions.push([name, await openSession((await writeModel(g, dir, 'lm-head')).modelFile)]);
  }
  const feed = { x: { type: 'float32' as const, data: Float32Array.from({ length: K }, (_, i) => Math.cos(i)), dims: [1, K] } };
  const times = new Map<string, number[]>(sessions.map(([name]) => [name, []]));
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const [name, session] of sessions) {
      await session.run(feed);
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) await session.run(feed);
      times.get(name)!.push((performance.now() - t0) / 5);
    }
  }
  const base = times.get('fp32 Gemm')!;
  console.log(`one token through [${N} × ${K}], ${args.rounds} rounds taking turns; median`);
  for (const [name, v] of times) console.log(`${name.padEnd(26)} ${median(v).toFixed(2).padStart(7)} ms   ${median(v.map((x, i) => base[i]! / x)).toFixed(2)}× fp32's speed`);
} finally {
  for (const [, session] of sessions) await session.release();
  work.cleanup();
}
