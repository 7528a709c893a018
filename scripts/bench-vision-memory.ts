/**
 * What fp16 vision matrices (fp16 and int4 imports) do on this machine's CPU provider: the
 * weights file, the anonymous memory (Linux) after the session opens and after one image, and the time
 * for that image, fp16 beside fp32. Full width (hidden 1152, MLP 4304, real projector) with
 * `blocks` encoder blocks and random weights; each precision runs in its own child process so
 * one's allocations do not hide the other's.
 * Run: npx tsx scripts/bench-vision-memory.ts [blocks=4]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { writeModel } from '../native-models/onnx/model-writer.ts';
import { processImage } from '../native-models/models/kimi-vl/processing/image-processing.ts';
import { VisionEncoder } from '../native-models/models/kimi-vl/runtime/vision-session.ts';
import { buildVisionGraph, type VisionWeights } from '../native-models/models/kimi-vl/graphs/modeling-vision.ts';
import { noise } from '../test/fixtures/images/png.ts';
import { randomVisionSource, TEXT_HIDDEN, visionShapeWith } from './vision-bench-model.ts';

const MB = 1e6;

/** Anonymous resident memory (Linux): what the process holds itself, without memory-mapped file pages the kernel can drop. */
function anonRss(): number {
  const kb = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!kb) throw new Error('no RssAnon in /proc/self/status: this benchmark needs Linux');
  return Number(kb[1]) * 1024;
}

interface Measured {
  readonly weightsBytes: number;
  readonly openRss: number;
  readonly runRss: number;
  readonly runMs: number;
}

async function measure(weights: VisionWeights, blocks: number): Promise<Measured> {
  const cfg = visionShapeWith(blocks);
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-bench-vision-memory-'));
  try {
    const written = await writeModel(buildVisionGraph(cfg, TEXT_HIDDEN, randomVisionSource(cfg), weights), dir, 'vision');
    const png = await sharp(noise(448 * 448 * 3, 5), { raw: { width: 448, height: 448, channels: 3 } }).png().toBuffer();
    const image = await processImage(png);
    const before = anonRss();
    const encoder = await VisionEncoder.open(written.modelFile, cfg);
    const openRss = anonRss() - before;
    const t0 = performance.now();
    await encoder.encode({ pixelValues: image.pixelValues, gridHws: [image.plan.grid] });
    const runMs = performance.now() - t0;
    const runRss = anonRss() - before;
    await encoder.release();
    return { weightsBytes: statSync(`${written.modelFile}.data`).size, openRss, runRss, runMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, arg] = process.argv.slice(2);
if (mode === '--child') {
  const [weights, blocks] = arg!.split(':');
  process.stdout.write(JSON.stringify(await measure(weights as VisionWeights, Number(blocks))));
} else {
  const blocks = Number(mode ?? 4);
  const self = fileURLToPath(import.meta.url);
  const run = (weights: VisionWeights): Measured =>
    JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', self, '--child', `${weights}:${blocks}`], { encoding: 'utf8' })) as Measured;
  const full = run('fp32');
  const half = run('fp16');
  const row = (label: string, key: keyof Measured, unit: number, suffix: string) =>
    console.log(`${label.padEnd(34)} fp32 ${(full[key] / unit).toFixed(0).padStart(6)} ${suffix}   fp16 ${(half[key] / unit).toFixed(0).padStart(6)} ${suffix}   fp16/fp32 ${(half[key] / full[key]).toFixed(2)}`);
  console.log(`MoonViT at full width, ${blocks} block(s) + projector, random weights, CPU provider, one 448×448 image`);
  row('weights file', 'weightsBytes', MB, 'MB');
  row('anonymous memory after open', 'openRss', MB, 'MB');
  row('anonymous memory after one image', 'runRss', MB, 'MB');
  row('time for one image', 'runMs', 1, 'ms');
}
