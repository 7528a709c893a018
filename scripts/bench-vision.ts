/**
 * MoonViT cost on this machine at the real width (hidden 1152, 16 heads, MLP 4304, 64×64
 * position table, real projector) with random weights, built with one encoder block and with
 * 1 + n, so the full 27-block tower can be projected from the per-block time (best of 2 runs). Prints, side by side, the
 * image-processor time and the vision-encoder time for one 1920×1080 screenshot.
 * Run: npx tsx scripts/bench-vision.ts [blocks=2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeModel } from '../native-models/onnx/model-writer.ts';
import { processImage } from '../native-models/models/kimi-vl/processing/image-processing.ts';
import { VisionEncoder } from '../native-models/models/kimi-vl/runtime/vision-session.ts';
import { buildVisionGraph } from '../native-models/models/kimi-vl/graphs/modeling-vision.ts';
import { noise } from '../test/fixtures/images/png.ts';
import { randomVisionSource, TEXT_HIDDEN, visionShapeWith } from './vision-bench-model.ts';

const blocks = Number(process.argv[2] ?? 2);
const REAL_BLOCKS = 27;

const dir = mkdtempSync(join(tmpdir(), 'kestrel-bench-vision-'));
try {
  const png = await sharp(noise(1920 * 1080 * 3, 5), { raw: { width: 1920, height: 1080, channels: 3 } }).png().toBuffer();
  const start = performance.now();
  const image = await processImage(png);
  const processMs = performance.now() - start;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (const layers of [1, 1 + blocks]) {
    const cfg = visionShapeWith(layers);
    const written = await writeModel(buildVisionGraph(cfg, TEXT_HIDDEN, randomVisionSource(cfg)), dir, `vision-${layers}`);
    const encoder = await VisionEncoder.open(written.modelFile, cfg);
    const feed = { pixelValues: image.pixelValues, gridHws: [image.plan.grid] };
    let best = Infinity;
    let bestCpu = Infinity;
    for (let run = 0; run < 2; run++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await encoder.encode(feed);
      const cpu = process.cpuUsage(c0);
      best = Math.min(best, performance.now() - t0);
      bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1000);
    }
    times.push(best);
    cpuTimes.push(bestCpu);
    await encoder.release();
  }
  const perBlock = (times[1]! - times[0]!) / blocks;
  const projected = times[0]! + perBlock * (REAL_BLOCKS - 1);
  console.log(`1920×1080 screenshot → grid ${image.plan.grid.join('×')} (${image.plan.grid[0] * image.plan.grid[1]} patches, ${image.plan.tokens} tokens), fp32 CPU`);
  console.log(`image processor                   ${processMs.toFixed(0)} ms  1×`);
  console.log(`embed, 1 block, projector         ${times[0]!.toFixed(0)} ms  ${(times[0]! / processMs).toFixed(0)}×`);
  console.log(`… plus ${blocks} more block(s)            ${times[1]!.toFixed(0)} ms  ${(times[1]! / processMs).toFixed(0)}×`);
  console.log(`CPU time per block (all threads)  ${((cpuTimes[1]! - cpuTimes[0]!) / blocks).toFixed(0)} ms; machine load skews wall times`);
  console.log(`projected, all 27 blocks          ${(projected / 1000).toFixed(1)} s  ${(projected / processMs).toFixed(0)}× (${perBlock.toFixed(0)} ms per block)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
