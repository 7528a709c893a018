/**
 * Image processor speed: a 1920×1080 PNG → MoonViT pixel values, against a plain sharp decode
 * of the same file to raw RGB (the floor any processor built on sharp pays).
 * Run: npx tsx scripts/bench-image.ts [runs]
 */
import sharp from 'sharp';
import { processImage } from '../native-models/models/kimi-vl/processing/image-processing.ts';
import { noise } from '../test/fixtures/images/png.ts';
import { median } from './stats.ts';

sharp.cache(false); // libvips' operation cache would serve repeated decodes of the same bytes
const runs = Number(process.argv[2] ?? 15);
const width = 1920;
const height = 1080;

// Screenshot-like content: flat panels, a gradient, and grainy "text" rows, so PNG compression
// and decoding cost is realistic rather than that of a blank or pure-noise image.
const pixels = new Uint8Array(width * height * 3);
const grain = noise(width * height, 3);
for (let y = 0; y < height; y++) {
  for (let x = 0; x < width; x++) {
    const i = (y * width + x) * 3;
    const panel = ((x >> 8) + (y >> 7)) % 3;
    const text = y % 24 < 14 && x % 300 < 220 && grain[y * width + x]! > 170;
    const base = text ? 20 : 200 + panel * 20 - (y * 40) / height;
    pixels[i] = base;
    pixels[i + 1] = base - panel * 10;
    pixels[i + 2] = base + (x * 30) / width;
  }
}
const png = await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer();

/** Median time of each task, the tasks interleaved round by round so background load hits all alike. */
async function medians(tasks: Array<() => Promise<unknown>>): Promise<number[]> {
  for (const task of tasks) await task(); // warm-up
  const times = tasks.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [t, task] of tasks.entries()) {
      const start = performance.now();
      await task();
      times[t]!.push(performance.now() - start);
    }
  }
  return times.map(median);
}

const { plan } = await processImage(png);
const { width: rw, height: rh } = plan.resized;
const [decode, resize, process_] = (await medians([
  () => sharp(png).raw().toBuffer(),
  () => sharp(png).resize(rw, rh, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer(),
  () => processImage(png),
])) as [number, number, number];
console.log(`1920×1080 PNG (${(png.length / 1024).toFixed(0)} KiB) → grid ${plan.grid.join('×')}, ${plan.tokens} tokens; median of ${runs} runs`);
console.log(`sharp decode to raw RGB      ${decode.toFixed(1)} ms  1.00×`);
console.log(`sharp decode + resize        ${resize.toFixed(1)} ms  ${(resize / decode).toFixed(2)}×`);
console.log(`processImage → pixel values  ${process_.toFixed(1)} ms  ${(process_ / decode).toFixed(2)}×`);
