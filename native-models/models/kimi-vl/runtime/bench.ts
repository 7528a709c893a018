/**
 * `kestrel bench` and the app's model benchmark, in the manner of llama.cpp's llama-bench: for
 * each model folder and device, a fresh load and then the work an agent step does, each repeated
 * and given as mean ± sample standard deviation with the samples kept. Tests, per repetition:
 *
 * - load: manifest to both sessions ready (weights read ahead, sessions created);
 * - prefill: `promptTokens` text tokens in one call (after an untimed warm-up call);
 * - decode: `decodeTokens` single-token calls continuing that prompt;
 * - vision: a screenshot (1920×1080 unless another is given) through the image processor and
 *   the vision tower;
 * - image prefill: the prompt holding that screenshot (its `<|media_pad|>` rows) in one call;
 * - first point: the grounding request end to end — screenshot processed and encoded, prompt
 *   prefilled, then the decode steps of a grounding reply up to its point. The reply's tokens
 *   are fed, not sampled, so every model and device does the same work (a random test model
 *   names no point; a real one may answer at another length);
 * - peak memory: the process's resident set, sampled through the repetition (device memory
 *   is not in it).
 *
 * Nothing here knows the agent: the grounding prompt and the reply's form come from the caller.
 */
import { availableParallelism, loadavg, platform, totalmem } from 'node:os';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { checkWeightFiles } from '../../../checkpoint/read-ahead.ts';
import type { Device, ExecutionDevice } from '../../../onnx/device.ts';
import { readManifest, type ModelManifest } from '../manifest.ts';
import { weightFiles } from './load-progress.ts';
import { KimiVLLocalModel, type LocalChatMessage } from './local-model.ts';
import type { KvCache } from './text-session.ts';

export type BenchTestName = 'load' | 'prefill' | 'decode' | 'vision' | 'image-prefill' | 'first-point' | 'peak-memory';

export interface BenchTest {
  readonly name: BenchTestName;
  /** How the table shows it: `pp512`, `tg32`, `vision 1920×1080`, … */
  readonly label: string;
  readonly unit: 's' | 'tok/s' | 'bytes';
  /** Tokens the test runs through, where it has a count. */
  readonly tokens?: number;
  readonly mean: number;
  /** Sample standard deviation (0 for one repetition). */
  readonly sd: number;
  readonly samples: readonly number[];
  /** `523.1 ± 4.2 tok/s`: how the CLI's table and the app show it. */
  readonly display: string;
}

export interface BenchResult {
  readonly model: string;
  readonly precision: string;
  /** Both weight files. */
  readonly weightBytes: number;
  /** The device asked for (`auto` included). */
  readonly device: Device;
  /** The provider the model ran on: what `auto` chose; absent when it did not load. */
  readonly ranOn?: ExecutionDevice;
  /** How the table shows the two: `cpu`, or `auto → cpu`. */
  readonly deviceLabel: string;
  /** Empty when the model could not be benchmarked on the device; `error` says why. */
  readonly tests: readonly BenchTest[];
  readonly error?: string;
}

export interface BenchReport {
  readonly machine: { readonly platform: string; readonly cpus: number; readonly memoryBytes: number; readonly loadAverage: readonly number[] };
  readonly repetitions: number;
  readonly promptTokens: number;
  readonly decodeTokens: number;
  readonly image: { readonly width: number; readonly height: number };
  readonly results: readonly BenchResult[];
}

export interface BenchImage {
  readonly mimeType: 'image/png' | 'image/jpeg';
  readonly data: Uint8Array;
}

/** The grounding request of the first-point test, from the agent (native-models does not know its prompt). */
export interface GroundingProbe {
  /** The messages asking for a point on `image`. */
  readonly messages: (image: BenchImage) => LocalChatMessage[];
  /** A reply of the form the agent reads a point from, e.g. `pyautogui.click(x=0.512, y=0.347)`. */
  readonly reply: string;
}

export interface BenchOptions {
  readonly repetitions: number;
  readonly promptTokens: number;
  readonly decodeTokens: number;
  readonly grounding: GroundingProbe;
  /** The screenshot; default a generated 1920×1080 PNG. */
  readonly screenshot?: BenchImage;
  /** One line per step, for a progress display. */
  readonly onProgress?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/**
 * A 1920×1080 PNG standing in for a screenshot: the vision tower's cost depends on the size
 * alone, so the picture (a title bar, panes and buttons in flat colours) only has to be one.
 */
export async function benchScreenshot(width = 1920, height = 1080): Promise<BenchImage> {
  const rect = (x: number, y: number, w: number, h: number, fill: string) =>
    `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="6" fill="${fill}"/>`;
  const buttons = Array.from({ length: 24 }, (_, i) => rect(320 + (i % 6) * 250, 200 + Math.floor(i / 6) * 160, 200, 48, i % 5 === 0 ? '#2f6fdf' : '#d9dde3'));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rect(0, 0, width, height, '#f4f5f7')}${rect(0, 0, width, 40, '#2b2f36')}${rect(0, 40, 280, height - 40, '#e6e8eb')}${buttons.join('')}</svg>`;
  return { mimeType: 'image/png', data: new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer()) };
}

/** Seconds with 2 decimals, tokens/s with 1, memory in GB with 2. */
function display(unit: BenchTest['unit'], mean: number, sd: number): string {
  if (unit === 'bytes') return `${(mean / 1e9).toFixed(2)} ± ${(sd / 1e9).toFixed(2)} GB`;
  const digits = unit === 's' ? 2 : 1;
  return `${mean.toFixed(digits)} ± ${sd.toFixed(digits)} ${unit}`;
}

/** The mean and the sample standard deviation (0 for one value). */
export function meanSd(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd };
}

function stat(name: BenchTestName, label: string, unit: BenchTest['unit'], samples: readonly number[], tokens?: number): BenchTest {
  const { mean, sd } = meanSd(samples);
  return { name, label, unit, ...(tokens !== undefined ? { tokens } : {}), mean, sd, samples, display: display(unit, mean, sd) };
}

/** Ordinary (non-special) token ids, the same for every model and device. */
function promptIds(count: number, seed: number): number[] {
  return Array.from({ length: count }, (_, i) => 1000 + ((i * 7919 + seed * 104729) % 90000));
}

/** Samples the resident set while work runs; ORT's runs are off this thread, so the timer fires. */
function sampleRss(): { peak: () => number; stop: () => number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  const read = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  return { peak: read, stop: () => (clearInterval(timer), read()) };
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** One model folder on one device, `repetitions` times from a fresh load. */
export async function benchModel(dir: string, device: Device, opts: BenchOptions & { readonly screenshot: BenchImage }): Promise<{ tests: BenchTest[]; ranOn?: ExecutionDevice }> {
  const samples: Record<BenchTestName, number[]> = { load: [], prefill: [], decode: [], vision: [], 'image-prefill': [], 'first-point': [], 'peak-memory': [] };
  const image = opts.screenshot;
  let imageTokens = 0;
  let imagePromptTokens = 0;
  let replyTokens = 0;
  let ranOn: ExecutionDevice | undefined;
  for (let rep = 1; rep <= opts.repetitions; rep++) {
    const step = (what: string) => {
      opts.signal?.throwIfAborted();
      opts.onProgress?.(`${dir} on ${device}: repetition ${rep}/${opts.repetitions}: ${what}`);
    };
    const rss = sampleRss();
    let model: KimiVLLocalModel | undefined;
    try {
      step('load');
      let t = performance.now();
      model = await KimiVLLocalModel.load(dir, { device, ...(opts.signal ? { signal: opts.signal } : {}) });
      samples.load.push(seconds(t));
      const session = model.session;
      ranOn = session.device;
      let cache: KvCache;
      // Warm-up: the first run of a session allocates; llama-bench leaves it out too.
      ({ cache } = await session.forward(promptIds(8, 0)));
      session.releaseCache(cache);

      step(`prefill ${opts.promptTokens} tokens`);
      t = performance.now();
      ({ cache } = await session.forward(promptIds(opts.promptTokens, rep)));
      samples.prefill.push(opts.promptTokens / seconds(t));
      step(`decode ${opts.decodeTokens} tokens`);
      const next = promptIds(opts.decodeTokens, rep + 1);
      t = performance.now();
      // 'greedy' as generation asks: the graph's own greedy token rather than its logits.
      for (const id of next) ({ cache } = await session.forward([id], cache, undefined, 'greedy'));
      samples.decode.push(opts.decodeTokens / seconds(t));
      session.releaseCache(cache);

      step('vision');
      t = performance.now();
      const encoded = await model.encodeMultimodal([{ role: 'user', content: [{ type: 'image', image }] }]);
      samples.vision.push(seconds(t));
      imageTokens = encoded.imageTokenCounts.reduce((a, b) => a + b, 0);
      step('image prefill');
      imagePromptTokens = encoded.inputIds.length;
      t = performance.now();
      ({ cache } = await session.forward(encoded.inputIds, undefined, encoded.images));
      samples['image-prefill'].push(imagePromptTokens / seconds(t));
      session.releaseCache(cache);

      step('first point');
      const reply = model.tokenizer.encodeText(opts.grounding.reply);
      replyTokens = reply.length;
      t = performance.now();
      const grounding = await model.encodeMultimodal(opts.grounding.messages(image));
      ({ cache } = await session.forward(grounding.inputIds, undefined, grounding.images));
      for (const id of reply) ({ cache } = await session.forward([id], cache));
      samples['first-point'].push(seconds(t));
      session.releaseCache(cache);
    } finally {
      await model?.release();
      samples['peak-memory'].push(rss.stop());
    }
  }
  const { width, height } = await sharp(image.data).metadata();
  const tests = [
    stat('load', 'load', 's', samples.load),
    stat('prefill', `pp${opts.promptTokens}`, 'tok/s', samples.prefill, opts.promptTokens),
    stat('decode', `tg${opts.decodeTokens}`, 'tok/s', samples.decode, opts.decodeTokens),
    stat('vision', `vision ${width}×${height} (${imageTokens} tokens)`, 's', samples.vision, imageTokens),
    stat('image-prefill', `pp${imagePromptTokens} with the image`, 'tok/s', samples['image-prefill'], imagePromptTokens),
    stat('first-point', `first point (${replyTokens} reply tokens)`, 's', samples['first-point'], replyTokens),
    stat('peak-memory', 'peak RSS', 'bytes', samples['peak-memory']),
  ];
  return { tests, ...(ranOn ? { ranOn } : {}) };
}

/**
 * The cheap checks, before any model loads: each folder is an imported model (its manifest)
 * and its weight files are there at the sizes the manifest records. Throws the first problem
 * in one line.
 */
export async function checkBenchFolders(dirs: readonly string[]): Promise<{ dir: string; manifest: ModelManifest }[]> {
  const checked: { dir: string; manifest: ModelManifest }[] = [];
  for (const given of dirs) {
    const dir = resolve(given);
    const manifest = readManifest(dir);
    const { text, vision } = weightFiles(dir, manifest);
    await checkWeightFiles([text, ...(vision ? [vision] : [])]);
    checked.push({ dir, manifest });
  }
  return checked;
}

/**
 * Every folder on every device, one after another. Every folder is checked before any model
 * loads (a wrong folder fails at once, checkBenchFolders); a combination that fails later (a device that
 * does not start) is reported in its result and the others still run.
 */
export async function benchModels(dirs: readonly string[], devices: readonly Device[], opts: BenchOptions): Promise<BenchReport> {
  const manifests = await checkBenchFolders(dirs);
  const screenshot = opts.screenshot ?? (await benchScreenshot());
  const { width = 0, height = 0 } = await sharp(screenshot.data).metadata();
  const results: BenchResult[] = [];
  for (const { dir, manifest } of manifests) {
    for (const device of devices) {
      const about = { model: dir, precision: manifest.precision, weightBytes: manifest.text.weights.bytes + manifest.vision.weights.bytes, device };
      try {
        const { tests, ranOn } = await benchModel(dir, device, { ...opts, screenshot });
        results.push({ ...about, tests, ...(ranOn ? { ranOn } : {}), deviceLabel: ranOn && ranOn !== device ? `${device} → ${ranOn}` : device });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        results.push({ ...about, tests: [], deviceLabel: device, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return {
    machine: { platform: platform(), cpus: availableParallelism(), memoryBytes: totalmem(), loadAverage: loadavg() },
    repetitions: opts.repetitions,
    promptTokens: opts.promptTokens,
    decodeTokens: opts.decodeTokens,
    image: { width, height },
    results,
  };
}
