/**
 * Which weight precision an import writes when the person leaves it to Kestrel (`auto`), and
 * the note due when a folder's precision and the device it runs on do not go well together.
 * Pure: the caller supplies the device, what the GPU probe found and the sizes.
 *
 * The rule: int4 on every device. A GPU gets it for its size (about a sixth of fp32's bytes for
 * Kimi-VL-A3B, and the routed experts run in QMoE, which CPU, CUDA and WebGPU all have; plain MoE
 * has no WebGPU kernel). The CPU gets it for speed as well: a decode step there is bound by the
 * bytes it reads, and an int4 import for the CPU decoded 2.1–4.5× as fast as fp32 on the mid-size
 * checkpoint (medians of nine runs on a busy machine), prefilled faster and loaded as fast, in a sixth of the memory
 * (scripts/bench-lm.ts; README "Performance on the CPU"). fp32, the tested reference, is for
 * asking by name. A precision asked for by name is always used as it is, with a note when fp32
 * would take more than 60% of the machine's memory.
 */
import type { Device, ExecutionDevice } from '../../onnx/device.ts';
import type { Int4ExpertForm } from './graphs/modeling-text.ts';

export const IMPORT_PRECISIONS = ['auto', 'int4', 'fp16', 'fp32'] as const;
export type ImportPrecision = (typeof IMPORT_PRECISIONS)[number];
/**
 * modeling-text.ts's Precision, spelled here so the app's route types (and so the renderer)
 * need not load the graph builder; precision.test.ts has tsc check that the two are the same.
 */
export type Precision = Exclude<ImportPrecision, 'auto'>;

/** fp32 weights above this share of the machine's memory get a note when fp32 is asked for on the CPU. */
export const CPU_MEMORY_SHARE = 0.6;

type Gpu = 'cuda' | 'webgpu';

export interface PrecisionFacts {
  /** The device the model is for. */
  readonly device: Device;
  /**
   * For device `auto`: why each GPU provider cannot be used here, undefined when it can
   * (backend.ts probeGpuDevices). A provider not listed counts as unavailable.
   */
  readonly gpus?: Readonly<Partial<Record<Gpu, string | undefined>>>;
  /** What the weights would take as fp32 (weights-size.ts). */
  readonly fp32Bytes: number;
  /** The machine's memory (os.totalmem()). */
  readonly totalMemory: number;
}

export interface PrecisionChoice {
  readonly precision: Precision;
  /** One line: why this precision. */
  readonly reason: string;
  /** A one-line warning when the choice is likely to disappoint (set only for explicit choices). */
  readonly note?: string;
}

const GPU_NAMES: Record<Gpu, string> = { cuda: 'CUDA', webgpu: 'WebGPU' };

/** 12.4 TB, 65.6 GB, 512.0 MB, 12.3 kB: decimal units, as disks are sold. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e12) return `${(bytes / 1e12).toFixed(1)} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

/** The GPU `auto` would run on, in the order the backend tries them. */
function detectedGpu(gpus: PrecisionFacts['gpus']): Gpu | undefined {
  return (['cuda', 'webgpu'] as const).find((d) => gpus !== undefined && d in gpus && gpus[d] === undefined);
}

function tooBigForMemory(facts: PrecisionFacts): boolean {
  return facts.fp32Bytes > CPU_MEMORY_SHARE * facts.totalMemory;
}

function memoryClause(facts: PrecisionFacts): string {
  return `${formatBytes(facts.fp32Bytes)} of fp32 weights against ${CPU_MEMORY_SHARE * 100}% of this machine's ${formatBytes(facts.totalMemory)} of memory`;
}

/** The note due for `precision` on `device`, for explicit choices made at import time. */
function explicitNote(precision: Precision, facts: PrecisionFacts): string | undefined {
  const device = facts.device === 'auto' ? detectedGpu(facts.gpus) ?? 'cpu' : facts.device;
  const onDevice = precisionDeviceNote(precision, device);
  if (onDevice) return onDevice;
  if (precision === 'fp32' && device === 'cpu' && tooBigForMemory(facts)) {
    return `fp32 may not fit in memory (${memoryClause(facts)}); --precision int4 writes about a sixth of that`;
  }
  return undefined;
}

export function choosePrecision(requested: ImportPrecision, facts: PrecisionFacts): PrecisionChoice {
  if (requested !== 'auto') {
    const note = explicitNote(requested, facts);
    return { precision: requested, reason: 'asked for with --precision', ...(note ? { note } : {}) };
  }
  if (facts.device === 'cuda' || facts.device === 'webgpu') {
    return { precision: 'int4', reason: `for ${GPU_NAMES[facts.device]}: int4 weights are about a sixth of fp32's size and every GPU provider runs them` };
  }
  const found = facts.device === 'auto' ? detectedGpu(facts.gpus) : undefined;
  if (found) {
    return { precision: 'int4', reason: `--device auto found ${GPU_NAMES[found]}, and int4 weights are about a sixth of fp32's size` };
  }
  const forCpu = facts.device === 'auto' ? 'no GPU provider found, so for the CPU' : 'for the CPU';
  const fit = tooBigForMemory(facts) ? `; fp32 would not fit comfortably (${memoryClause(facts)})` : '';
  return { precision: 'int4', reason: `${forCpu}: int4 decodes several times faster than fp32 there, in about a sixth of its memory${fit}; --precision fp32 is the reference` };
}

/**
 * The note due when a folder of this precision runs on this device, else undefined. On WebGPU
 * every folder's experts run on the CPU, so every MoE layer's hidden states cross between the
 * devices: fp32 and fp16 folders use com.microsoft.MoE, which has no WebGPU kernel, and int4
 * folders' QMoE is kept off WebGPU's racy kernel (modeling-text.ts routedExpertNodes).
 */
export function precisionDeviceNote(precision: Precision, device: ExecutionDevice, int4Experts?: Int4ExpertForm): string | undefined {
  if (device !== 'cpu' && precision === 'int4' && int4Experts === 'per-expert') {
    return `this int4 model was imported for the CPU: its experts run one by one under If, which on a GPU reads a condition back to the host for every expert of every layer; re-import with \`kestrel model import --device ${device}\` (its experts then run in one QMoE per layer)`;
  }
  if (device !== 'webgpu') return undefined;
  if (precision !== 'int4') return `this ${precision} model's experts use com.microsoft.MoE, which has no WebGPU kernel, so they run on the CPU`;
  return 'this int4 model\'s experts run on the CPU: onnxruntime 1.30\'s WebGPU QMoE gives wrong results at random for more than one token';
}
