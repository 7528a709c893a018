import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runKestrel as kestrel } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';
import type { BenchReport } from '../../native-models/models/kimi-vl/runtime/bench.ts';
import { planImage } from '../../native-models/models/kimi-vl/processing/image-processing.ts';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { probeGpuDevices } from '../../native-models/onnx/backend.ts';

// `kestrel bench` on a tiny random model, imported once: what the table and the JSON hold (not
// how fast anything is), and that bad input is refused before any model loads.

const ckpt = tinyCheckpoint({ seed: 21 });
const work = tempDir('bench-cli');
const model = join(work.dir, 'tiny-fp32');
const TESTS = ['load', 'prefill', 'decode', 'vision', 'image-prefill', 'first-point', 'peak-memory'];

beforeAll(async () => {
  await importKimiVL({ source: ckpt.dir, out: model, device: 'cpu' });
}, 120_000);
afterAll(() => {
  ckpt.cleanup();
  work.cleanup();
});

describe('kestrel bench', () => {
  test('--json: one object with every test\'s mean, sd and one sample per repetition', async () => {
    const r = await kestrel(['bench', model, '--device', 'cpu', '--repetitions', '2', '--prompt', '24', '--decode', '3', '--json'], process.env, 110_000);
    expect(r.stderr).not.toMatch(/^kestrel: /m);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(r.stdout) as BenchReport;
    expect(report).toMatchObject({ repetitions: 2, promptTokens: 24, decodeTokens: 3, image: { width: 1920, height: 1080 } });
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.results).toHaveLength(1);
    const [result] = report.results;
    expect(result).toMatchObject({ model, precision: 'fp32', device: 'cpu', ranOn: 'cpu', deviceLabel: 'cpu' });
    expect(result!.error).toBeUndefined();
    expect(result!.tests.map((t) => t.name)).toEqual(TESTS);
    const byName = Object.fromEntries(result!.tests.map((t) => [t.name, t]));
    expect(byName.prefill).toMatchObject({ label: 'pp24', unit: 'tok/s', tokens: 24 });
    expect(byName.decode).toMatchObject({ label: 'tg3', unit: 'tok/s', tokens: 3 });
    const imageTokens = planImage(1920, 1080).tokens;
    expect(byName.vision).toMatchObject({ label: `vision 1920×1080 (${imageTokens} tokens)`, unit: 's', tokens: imageTokens });
    // The image's prompt holds its pads and the template's few tokens around them.
    expect(byName['image-prefill']!.tokens).toBeGreaterThan(imageTokens);
    expect(byName['image-prefill']!.label).toBe(`pp${byName['image-prefill']!.tokens} with the image`);
    expect(byName['first-point']!.label).toMatch(/^first point \(\d+ reply tokens\)$/);
    expect(byName['peak-memory']).toMatchObject({ label: 'peak RSS', unit: 'bytes' });
    for (const t of result!.tests) {
      expect(t.samples).toHaveLength(2);
      for (const s of t.samples) expect(s).toBeGreaterThan(0);
      const [a, b] = t.samples as [number, number];
      const close = (value: number, expected: number) => expect(Math.abs(value - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected) + 1e-12);
      close(t.mean, (a + b) / 2);
      // The sample standard deviation of two values: their distance over √2.
      close(t.sd, Math.abs(a - b) / Math.SQRT2);
    }
  });

  test('the table: a row per test, a failing device in its own line while the others run (exit 1)', async () => {
    // CUDA cannot start where its libraries are missing (as on this project's machines); where
    // they are there, it runs like the CPU.
    const cudaMissing = probeGpuDevices().cuda;
    const r = await kestrel(['bench', model, '--device', 'cuda,cpu', '-r', '1', '-p', '16', '-n', '2'], process.env, 110_000);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\| model +\| precision \| size +\| device +\| test +\| +result \|$/);
    expect(lines[1]).toMatch(/^\| -+ \| -+ \| -+ \| -+ \| -+ \| -+: \|$/);
    const rows = lines.slice(2).filter((l) => l.startsWith('| ')).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    const cpu = rows.filter((row) => row[3] === 'cpu');
    expect(cpu.map((row) => row[4])).toEqual(['load', 'pp16', 'tg2', expect.stringMatching(/^vision 1920×1080 \(\d+ tokens\)$/), expect.stringMatching(/^pp\d+ with the image$/), expect.stringMatching(/^first point \(\d+ reply tokens\)$/), 'peak RSS']);
    for (const row of cpu) {
      expect(row.slice(0, 3)).toEqual(['tiny-fp32', 'fp32', expect.stringMatching(/^[\d.]+ [kMG]B$/)]);
      expect(row[5]).toMatch(/^\d+\.\d+ ± 0\.0+ (s|tok\/s|GB)$/);
    }
    expect(lines.at(-1)).toMatch(/^1 repetition from a fresh load each, mean ± sd; \d+ cores, [\d.]+ GB, load average [\d. ]+ at the end$/);
    if (cudaMissing !== undefined) {
      expect(rows.filter((row) => row[3] === 'cuda')).toEqual([['tiny-fp32', 'fp32', expect.any(String), 'cuda', 'failed', 'see below']]);
      expect(r.stdout).toContain(`tiny-fp32 on cuda failed: device cuda: ${cudaMissing}`);
      expect(r.code).toBe(1);
    } else {
      expect(rows.filter((row) => row[3] === 'cuda')).toHaveLength(7);
      expect(r.code).toBe(0);
    }
  });

  describe('bad input is one line and exit 2, before any model loads', () => {
    beforeAll(() => {
      // A folder with the model's manifest and none of its weights.
      mkdirSync(join(work.dir, 'no-weights'));
      copyFileSync(join(model, 'kestrel-model.json'), join(work.dir, 'no-weights', 'kestrel-model.json'));
      writeFileSync(join(work.dir, 'not-an-image.png'), 'hello');
    });
    test.each([
      [['--repetitions', '0'], /^kestrel: .*--repetitions must be a positive whole number, got '0'\.$/],
      [['--device', 'cpu,tpu'], /^kestrel: .*--device takes auto, cpu, cuda, webgpu \(comma-separated for several\), got 'tpu'\.$/],
      [['--prompt', 'lots'], /^kestrel: .*--prompt must be a positive whole number, got 'lots'\.$/],
      [['--image', 'not-an-image.png'], /^kestrel: .*not-an-image\.png is not an image Kestrel can read .*; give a PNG or JPEG screenshot$/],
      [['--image', 'missing.png'], /^kestrel: cannot read the image .*missing\.png: no such file$/],
    ])('%j', async (flags, message) => {
      const r = await kestrel(['bench', model, ...flags.map((f) => (f.endsWith('.png') ? join(work.dir, f) : f))]);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd()).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.code).toBe(2);
    });
    test('a folder that is not an imported model, or has lost its weights, even after a good one', async () => {
      const notModel = await kestrel(['bench', model, ckpt.dir]);
      expect(notModel.stderr.trimEnd()).toBe(`kestrel: kestrel-model.json (is ${ckpt.dir} a folder made by \`kestrel model import\`?) not found: ${join(ckpt.dir, 'kestrel-model.json')}`);
      expect(notModel.code).toBe(2);
      const noWeights = await kestrel(['bench', join(work.dir, 'no-weights')]);
      expect(noWeights.stderr.trimEnd()).toBe(`kestrel: weight file ${join(work.dir, 'no-weights', 'text-model.onnx.data')} is missing; re-run \`kestrel model import\` into this folder`);
      expect(noWeights.code).toBe(2);
    });
  });
});
