/**
 * The int4 import's quantising producers on one thread, this checkout against another
 * (`--baseline DIR`, a checkout of main, say), in turns in one process: each round quantises, from
 * bf16 spans as the checkpoint reader hands them out, a part of an embedding-sized matrix
 * (asymmetric blocks of 64) and a layer's worth of experts (symmetric, scales rounded to fp16),
 * and gives every output array back as the import's writers do. Prints the CPU milliseconds a
 * round took in each (median and range) and their ratio, round by round; the outputs' bytes are
 * compared too.
 * Run: npx tsx scripts/bench-quantiser.ts --baseline DIR [--rounds 15] [--rows 28672] [--experts 16]
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { float32ToBfloat16 } from '../native-models/numeric/half.ts';
import { uniformFloats } from '../native-models/numeric/random.ts';
import { READ_VALUES } from '../native-models/wasm/kernels.ts';
import { median, medianAndSpread, spread } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '15' },
    rows: { type: 'string', default: '28672' },
    experts: { type: 'string', default: '16' },
  },
});
if (!args.baseline || !existsSync(join(args.baseline, 'native-models/quantization/matmul-nbits.ts'))) throw new Error('--baseline DIR: a checkout of this repository (with native-models/quantization/matmul-nbits.ts)');
const WIDTH = 1024;
const ROWS = Number(args.rows);
const EXPERTS = Number(args.experts);
const EXPERT_ROWS = 1024; // an fc1 expert of the mid-size checkpoint: gate and up, 2 × 512

/** bf16 bit patterns of random weights, as a checkpoint stores them. */
const bf16 = (n: number, seed: number) => float32ToBfloat16(uniformFloats(n, seed, 0.05));
const table = bf16(ROWS * WIDTH, 1);
const experts = Array.from({ length: EXPERTS }, (_, e) => bf16(EXPERT_ROWS * WIDTH, 2 + e));

/** A span over values in memory that, unlike spanOfValues, gives nothing back (the values are read again next round). */
const spanOver = (values: Uint16Array) => ({ length: values.length, read: (into: Uint16Array, from: number) => into.set(values.subarray(from, from + into.length)) });

interface Api {
  quantizeStream: (chunks: () => AsyncIterable<unknown>, n: number, k: number, opts: object, what: string) => Promise<{ packed: Uint8Array; scales: Float32Array; zeroPoints?: Uint8Array }>;
  quantizedExpertByExpert: (name: string, source: unknown, experts: number, n: number, k: number, blockSize: number, consumers: number) => { get(e: number): Promise<{ packed: Uint8Array; scales: Float32Array }> };
  giveBackChunk: (chunk: ArrayBufferView) => void;
}

async function load(repo: string): Promise<Api> {
  const m = await import(join(repo, 'native-models/quantization/matmul-nbits.ts'));
  const b = await import(join(repo, 'native-models/checkpoint/buffers.ts'));
  return { quantizeStream: m.quantizeStream, quantizedExpertByExpert: m.quantizedExpertByExpert, giveBackChunk: b.giveBackChunk };
}

/** One round: the table's rows in reader-sized spans, then every expert on its own; returns a digest of every byte made. */
async function round(api: Api): Promise<string> {
  const hash = createHash('sha256');
  const spend = (...arrays: (ArrayBufferView | undefined)[]) => {
    for (const a of arrays) {
      if (!a) continue;
      hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      api.giveBackChunk(a);
    }
  };
  const q = await api.quantizeStream(
    async function* () {
      for (let at = 0; at < table.length; at += READ_VALUES) yield spanOver(table.subarray(at, Math.min(table.length, at + READ_VALUES))); // the checkpoint reader's chunk
    },
    ROWS,
    WIDTH,
    { blockSize: 64, symmetric: false },
    'table',
  );
  spend(q.packed, q.scales, q.zeroPoints);
  const source = Object.assign(() => { throw new Error('fp32 not used'); }, {
    rows: () => { throw new Error('fp32 not used'); },
    bf16Rows: async function* (from: number, to: number) {
      for (let e = from; e < to; e++) yield spanOver(experts[e]!);
    },
  });
  const all = api.quantizedExpertByExpert('experts', source, EXPERTS, EXPERT_ROWS, WIDTH, 64, 1);
  for (let e = 0; e < EXPERTS; e++) {
    const x = await all.get(e);
    spend(x.packed, x.scales);
  }
  return hash.digest('hex');
}

const cpuMs = async (run: () => Promise<unknown>) => {
  const t = process.cpuUsage();
  const digest = await run();
  const d = process.cpuUsage(t);
  return { ms: (d.user + d.system) / 1000, digest };
};

const ours = await load(resolve(import.meta.dirname, '..'));
const base = await load(resolve(args.baseline));
const values = ROWS * WIDTH + EXPERTS * EXPERT_ROWS * WIDTH;
await round(ours);
await round(base);
const mine: number[] = [];
const theirs: number[] = [];
let same = true;
for (let r = 0; r < Number(args.rounds); r++) {
  // In turns, each first every other round.
  const order = r % 2 === 0 ? [ours, base] : [base, ours];
  const got = [];
  for (const api of order) got.push({ api, ...(await cpuMs(() => round(api))) });
  for (const g of got) (g.api === ours ? mine : theirs).push(g.ms);
  same &&= got[0]!.digest === got[1]!.digest;
}
const ratios = mine.map((m, i) => theirs[i]! / m);
console.log(`${(values / 1e6).toFixed(1)} M values a round (a [${ROWS}, ${WIDTH}] table, ${EXPERTS} experts [${EXPERT_ROWS}, ${WIDTH}]), ${mine.length} rounds in turns`);
console.log(`this checkout: ${medianAndSpread(mine, 1)} CPU-ms a round, ${(values / median(mine) / 1e3).toFixed(0)} M values/CPU-s`);
console.log(`baseline:      ${medianAndSpread(theirs, 1)} CPU-ms a round, ${(values / median(theirs) / 1e3).toFixed(0)} M values/CPU-s`);
console.log(`baseline ÷ this checkout, round by round: ${median(ratios).toFixed(2)}× (${spread(ratios, 2)}); same bytes: ${same ? 'yes' : 'NO'}`);
