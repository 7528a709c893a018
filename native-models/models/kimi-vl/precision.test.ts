import { describe, expect, test } from 'vitest';
import type { ExecutionDevice } from '../../onnx/device.ts';
import type { Precision as GraphPrecision } from './graphs/modeling-text.ts';
import type { Precision } from './precision.ts';
import { choosePrecision, formatBytes, precisionDeviceNote, type ImportPrecision, type PrecisionFacts } from './precision.ts';

const GiB = 2 ** 30;
const NO_CUDA = 'CUDA provider libraries are not installed';
const NO_VULKAN = 'libvulkan.so.1 is not installed';
// The 16B model's text + vision weights as fp32 (weights-size.test.ts checks the real figure).
const BIG = 65.6e9;
const TINY = 2.1e6;

type Row = [what: string, requested: ImportPrecision, facts: PrecisionFacts, precision: Precision, reason: RegExp, note?: RegExp];

const rows: Row[] = [
  ['cuda → int4', 'auto', { device: 'cuda', fp32Bytes: TINY, totalMemory: 24 * GiB }, 'int4', /^for CUDA: int4 weights are about a sixth of fp32's size/],
  ['webgpu → int4', 'auto', { device: 'webgpu', fp32Bytes: TINY, totalMemory: 24 * GiB }, 'int4', /^for WebGPU: /],
  ['cuda with a huge machine → still int4', 'auto', { device: 'cuda', fp32Bytes: BIG, totalMemory: 1024 * GiB }, 'int4', /^for CUDA/],
  ['auto, CUDA found', 'auto', { device: 'auto', gpus: { cuda: undefined, webgpu: NO_VULKAN }, fp32Bytes: TINY, totalMemory: 24 * GiB }, 'int4', /^--device auto found CUDA/],
  ['auto, only WebGPU found', 'auto', { device: 'auto', gpus: { cuda: NO_CUDA, webgpu: undefined }, fp32Bytes: TINY, totalMemory: 24 * GiB }, 'int4', /^--device auto found WebGPU/],
  ['auto, both found: CUDA first, as the backend tries it', 'auto', { device: 'auto', gpus: { cuda: undefined, webgpu: undefined }, fp32Bytes: TINY, totalMemory: 24 * GiB }, 'int4', /found CUDA/],
  ['auto, no GPU, small model → fp32', 'auto', { device: 'auto', gpus: { cuda: NO_CUDA, webgpu: NO_VULKAN }, fp32Bytes: TINY, totalMemory: 24 * GiB }, 'fp32', /^no GPU provider found, so for the CPU: fp32 is the tested reference and fits/],
  ['auto, nothing probed counts as no GPU', 'auto', { device: 'auto', fp32Bytes: TINY, totalMemory: 24 * GiB }, 'fp32', /^no GPU provider found/],
  ['auto, no GPU, 16B on 24 GiB → int4', 'auto', { device: 'auto', gpus: { cuda: NO_CUDA, webgpu: NO_VULKAN }, fp32Bytes: BIG, totalMemory: 24 * GiB }, 'int4', /^no GPU provider found, so for the CPU: fp32 would not fit comfortably \(65\.6 GB of fp32 weights against 60% of this machine's 25\.8 GB of memory\), so int4$/],
  ['cpu, small → fp32', 'auto', { device: 'cpu', fp32Bytes: TINY, totalMemory: 24 * GiB }, 'fp32', /^for the CPU: fp32 is the tested reference and fits \(2\.1 MB of fp32 weights against 60% of this machine's 25\.8 GB/],
  ['cpu, 16B on 24 GiB → int4', 'auto', { device: 'cpu', fp32Bytes: BIG, totalMemory: 24 * GiB }, 'int4', /^for the CPU: fp32 would not fit comfortably/],
  ['cpu, 16B on 128 GiB (65.6 GB < 60% of 137 GB) → fp32', 'auto', { device: 'cpu', fp32Bytes: BIG, totalMemory: 128 * GiB }, 'fp32', /fits/],
  ['cpu, 16B on 96 GiB (65.6 GB > 60% of 103 GB) → int4', 'auto', { device: 'cpu', fp32Bytes: BIG, totalMemory: 96 * GiB }, 'int4', /would not fit/],
  ['cpu, exactly 60% still fits', 'auto', { device: 'cpu', fp32Bytes: 60, totalMemory: 100 }, 'fp32', /fits/],
  ['cpu, just over 60% does not', 'auto', { device: 'cpu', fp32Bytes: 60.001, totalMemory: 100 }, 'int4', /would not fit/],
  ['explicit fp32 on cpu, fits: no note', 'fp32', { device: 'cpu', fp32Bytes: TINY, totalMemory: 24 * GiB }, 'fp32', /^asked for with --precision$/],
  ['explicit fp32 on cpu, too big: kept, with a note', 'fp32', { device: 'cpu', fp32Bytes: BIG, totalMemory: 24 * GiB }, 'fp32', /^asked for/, /^fp32 may not fit in memory \(65\.6 GB .*\); --precision int4 writes about a sixth of that$/],
  ['explicit fp16 for webgpu: kept, MoE note', 'fp16', { device: 'webgpu', fp32Bytes: TINY, totalMemory: 24 * GiB }, 'fp16', /^asked for/, /fp16 model's experts use com\.microsoft\.MoE, which has no WebGPU kernel, so they run on the CPU$/],
  ['explicit fp32 with auto finding only WebGPU: MoE note', 'fp32', { device: 'auto', gpus: { cuda: NO_CUDA, webgpu: undefined }, fp32Bytes: TINY, totalMemory: 24 * GiB }, 'fp32', /^asked for/, /fp32 model's experts use com\.microsoft\.MoE/],
  ['explicit fp16 for cuda: no note', 'fp16', { device: 'cuda', fp32Bytes: BIG, totalMemory: 24 * GiB }, 'fp16', /^asked for/],
  ['explicit int4 on cpu: no note', 'int4', { device: 'cpu', fp32Bytes: TINY, totalMemory: 24 * GiB }, 'int4', /^asked for/],
  ['explicit int4 on webgpu: its experts stay on the CPU too', 'int4', { device: 'webgpu', fp32Bytes: BIG, totalMemory: 24 * GiB }, 'int4', /^asked for/, /^this int4 model's experts run on the CPU: onnxruntime 1\.30's WebGPU QMoE/],
];

// Compile-time: the import choices are exactly the precisions the graph builder takes.
const samePrecisions: [GraphPrecision] extends [Precision] ? ([Precision] extends [GraphPrecision] ? true : false) : false = true;

describe('choosePrecision', () => {
  test('offers exactly the graph builder\'s precisions', () => expect(samePrecisions).toBe(true));

  test.each(rows)('%s', (_what, requested, facts, precision, reason, note) => {
    const choice = choosePrecision(requested, facts);
    expect(choice.precision).toBe(precision);
    expect(choice.reason).toMatch(reason);
    if (note) expect(choice.note).toMatch(note);
    else expect(choice.note).toBeUndefined();
    expect(`${choice.reason}${choice.note ?? ''}`).not.toContain('\n');
  });
});

describe('precisionDeviceNote', () => {
  const cases: [Precision, ExecutionDevice, boolean][] = [
    ['fp32', 'webgpu', true],
    ['fp16', 'webgpu', true],
    ['int4', 'webgpu', true],
    ['fp32', 'cpu', false],
    ['fp16', 'cpu', false],
    ['int4', 'cpu', false],
    ['fp32', 'cuda', false],
    ['fp16', 'cuda', false],
    ['int4', 'cuda', false],
  ];
  test.each(cases)('%s on %s → note: %s', (precision, device, due) => {
    const note = precisionDeviceNote(precision, device);
    if (!due) return expect(note).toBeUndefined();
    expect(note).toMatch(precision === 'int4' ? /^this int4 model's experts run on the CPU: onnxruntime 1\.30's WebGPU QMoE gives wrong results at random for more than one token$/ : new RegExp(`^this ${precision} model's experts use com\\.microsoft\\.MoE, which has no WebGPU kernel, so they run on the CPU$`));
  });

  test.each(['webgpu', 'cuda'] as const)('an int4 folder imported for the CPU, on %s → note: re-import for it', (device) => {
    expect(precisionDeviceNote('int4', device, 'per-expert')).toContain(`re-import with \`kestrel model import --device ${device}\``);
    expect(precisionDeviceNote('int4', device, 'qmoe')).toBe(precisionDeviceNote('int4', device));
    expect(precisionDeviceNote('int4', 'cpu', 'per-expert')).toBeUndefined();
  });
});

test.each([
  [0, '0.0 kB'],
  [1_234, '1.2 kB'],
  [2_100_000, '2.1 MB'],
  [65_600_000_000, '65.6 GB'],
  [580e15, '580000.0 TB'],
])('formatBytes(%d) = %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
