/**
 * Kimi-VL-A3B's prefill memory and time up to its 128K context, projected from what
 * scripts/bench-long-prompt.ts measured on a mid-size checkpoint, which has the 16B model's
 * attention (16 heads, kv_lora 512, nope 128 + rope 64, v 128) and vocabulary:
 *
 * - memory: peak(L) = weights + fixed + perToken · L. The mid-size's perToken is the slope
 *   between its two longest prompts (two or three are given), and its fixed part what its shortest prompt's peak leaves
 *   after the weights file and perToken · L. For the 16B: its text weights file at the precision
 *   (the importer's own estimate; a prefill touches every expert), the fixed part scaled by the
 *   hidden size (the hidden states and feed-forward products of one chunk of 2048 tokens), and the
 *   mid-size's perToken with its cache (layers × 576 values, reserved an eighth longer) replaced by
 *   the 16B's. The rebuilt keys and values (one layer at a time: 16 heads × 256 values a cached
 *   token) are the same in both, so they stay in the slope as measured.
 * - time: t(L) = linear · L + quadratic · L², fitted through the two longest prompts. The linear
 *   part scales with the weights a token goes through (`decodeCost`, without lm_head, which a
 *   prefill applies to its last token only), the quadratic part (attention: the same heads and
 *   widths per layer) with the number of layers. fp32 on this machine's CPU provider, under
 *   whatever load the measurements had.
 *
 * Run: npx tsx scripts/project-long-prompt.ts --model mid16 --measured 2048=2.69GB/34.9s,8192=…,32768=…
 */
import { parseArgs } from 'node:util';
import { parseKimiVLConfig, type KimiTextConfig } from '../native-models/models/kimi-vl/configuration.ts';
import { cacheWidth, type Precision } from '../native-models/models/kimi-vl/graphs/modeling-text.ts';
import { decodeCost } from '../native-models/models/kimi-vl/graphs/text-costs.ts';
import { tinyConfigJson } from '../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import { estimateWeights } from '../native-models/models/kimi-vl/import/weights-size.ts';
import { realKimiConfig } from '../test/harness/kimi-configs.ts';
import { BENCH_MODELS } from './long-prompt-models.ts';

const { values: args } = parseArgs({ options: { model: { type: 'string', default: 'mid16' }, measured: { type: 'string' } } });
if (!args.measured) throw new Error('give the measurements: --measured 2048=2.69GB/34.9s,8192=…,32768=… (from bench-long-prompt.ts)');
const bench = BENCH_MODELS[args.model];
if (!bench || args.model === 'tiny') throw new Error(`--model must be a mid-size one (${Object.keys(BENCH_MODELS).filter((k) => k !== 'tiny').join(', ')})`);

const points = args.measured.split(',').map((item) => {
  const m = /^(\d+)=([\d.]+)GB\/([\d.]+)s$/.exec(item.trim());
  if (!m) throw new Error(`a measurement is tokens=<peak>GB/<seconds>s, not ${item}`);
  return { tokens: Number(m[1]), peak: Number(m[2]) * 1e9, seconds: Number(m[3]) };
}).sort((a, b) => a.tokens - b.tokens);
if (points.length < 2) throw new Error('two prompt lengths or more are needed (the shortest for the fixed part, the two longest for the slopes)');

const midConfig = parseKimiVLConfig(tinyConfigJson({ dtype: 'fp32', text: bench.text }));
const mid = midConfig.text;
const big = realKimiConfig().text;
const RESERVE = 1.125; // a prompt reserves its cache an eighth longer (text-session.ts)
const cacheBytes = (t: KimiTextConfig) => t.numHiddenLayers * cacheWidth(t) * 4 * RESERVE; // fp32 cache on the CPU
const perTokenWeights = (t: KimiTextConfig) => decodeCost(t, 'fp32').parameters - t.vocabSize * t.hiddenSize;

const [shortest, second, longest] = [points[0]!, points.at(-2)!, points.at(-1)!];
const slope = (longest.peak - second.peak) / (longest.tokens - second.tokens);
const midWeights = estimateWeights(midConfig, 'fp32').text;
const fixed = shortest.peak - midWeights - slope * shortest.tokens;
// t/L = linear + quadratic · L through the two longest prompts.
const rate = (p: { tokens: number; seconds: number }) => p.seconds / p.tokens;
const quadratic = Math.max(0, (rate(longest) - rate(second)) / (longest.tokens - second.tokens));
const linear = rate(second) - quadratic * second.tokens;

const bigSlope = slope - cacheBytes(mid) + cacheBytes(big);
const bigFixed = fixed * (big.hiddenSize / mid.hiddenSize);
const bigLinear = linear * (perTokenWeights(big) / perTokenWeights(mid));
const bigQuadratic = quadratic * (big.numHiddenLayers / mid.numHiddenLayers);
const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;
const duration = (s: number) => (s < 120 ? `${s.toFixed(0)} s` : s < 7200 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

console.log(`from ${args.model}: fixed ${gb(fixed)} beyond its ${gb(midWeights)} of weights, ${(slope / 1e3).toFixed(1)} KB a prompt token; ${(linear * 1e3).toFixed(2)} ms a token + ${(quadratic * 1e9).toFixed(2)} ns × tokens²`);
console.log(`Kimi-VL-A3B: fixed ${gb(bigFixed)}, ${(bigSlope / 1e3).toFixed(1)} KB a prompt token (cache ${(cacheBytes(big) / 1e3).toFixed(1)} KB); ${(bigLinear * 1e3).toFixed(2)} ms a token + ${(bigQuadratic * 1e9).toFixed(2)} ns × tokens²`);
const precisions: Precision[] = ['fp32', 'int4'];
const weights = Object.fromEntries(precisions.map((p) => [p, estimateWeights(realKimiConfig(), p).text]));
console.log('\n| prompt tokens | peak memory, fp32 | peak memory, int4 | fp32 prefill time |\n|---|---|---|---|');
for (const tokens of [2048, 8192, 32768, 65536, big.maxPositionEmbeddings]) {
  const extra = bigFixed + bigSlope * tokens;
  const seconds = bigLinear * tokens + bigQuadratic * tokens * tokens;
  console.log(`| ${tokens.toLocaleString('en-US')} | ${gb(weights.fp32! + extra)} | ${gb(weights.int4! + extra)} | ${duration(seconds)} |`);
}
