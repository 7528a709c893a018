/**
 * The only file that imports onnxruntime-node. Everything else talks to sessions through the
 * small `ModelSession` shape below, so another backend (web, a different EP) can slot in.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Device, ExecutionDevice } from './device.ts';
import { ensureRuntimeDir, webGpuBlocker } from './vulkan.ts';
import { KestrelError } from '../../shared/errors.ts';
import { messageOf } from '../../shared/one-line.ts';

/** An output left in GPU memory (WebGPU): it can be fed back to a run, not read. */
export interface DeviceValue {
  readonly location: 'device';
  readonly type: string;
  readonly dims: readonly number[];
  readonly data?: never;
  dispose(): void;
}

export type FeedValue =
  | { readonly type: 'int64'; readonly data: BigInt64Array; readonly dims: readonly number[] }
  | { readonly type: 'float32'; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: 'float16'; readonly data: Uint16Array; readonly dims: readonly number[] }
  | DeviceValue;

export function isDeviceValue(value: FeedValue | OutputValue | DeviceValue): value is DeviceValue {
  return 'location' in value && value.location === 'device';
}

export interface OutputValue {
  readonly location?: 'cpu';
  readonly type: string;
  readonly data: Float32Array | Uint16Array | BigInt64Array;
  readonly dims: readonly number[];
}

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Where the session runs. */
  readonly device?: ExecutionDevice;
  /** Host values, except outputs named in `keepOnDevice` when the device can keep them. */
  run(feeds: Readonly<Record<string, FeedValue>>, outputs?: readonly string[]): Promise<Record<string, OutputValue | DeviceValue>>;
  release(): Promise<void>;
}

export { DEVICES, type Device, type ExecutionDevice } from './device.ts';

export interface SessionOptions {
  /** Threads for one operator; default lets onnxruntime decide (all cores). */
  readonly intraOpThreads?: number;
  /** Which execution provider; `auto` tries CUDA, then WebGPU, then CPU (default `cpu`). */
  readonly device?: Device;
  /** Where the one-line fallback note goes (default stderr). */
  readonly note?: (line: string) => void;
  /** Outputs to leave in GPU memory where the provider allows it (only WebGPU does, from Node). */
  readonly keepOnDevice?: readonly string[];
  /** Nodes (by name) to run on the CPU provider although WebGPU has kernels for them. */
  readonly cpuNodes?: readonly string[];
  /**
   * onnxruntime's verbose log on stderr, where it lists the provider each node was placed on
   * (placement.ts reads it from a child process).
   */
  readonly verboseLog?: boolean;
  /** Default `all`, as every run uses; `disabled` keeps the nodes as written (kernel probes). */
  readonly graphOptimization?: 'all' | 'disabled';
}

/** Writes a one-line note where the caller asked (default stderr). */
export function note(opts: Pick<SessionOptions, 'note'>, line: string): void {
  (opts.note ?? ((text) => process.stderr.write(`${text}\n`)))(line);
}

/** onnxruntime's placement for the outputs to keep; undefined where they must come back to the host. */
export function outputPlacement(device: ExecutionDevice, keepOnDevice: readonly string[] = []): Record<string, 'gpu-buffer'> | undefined {
  if (device !== 'webgpu' || keepOnDevice.length === 0) return undefined;
  return Object.fromEntries(keepOnDevice.map((name) => [name, 'gpu-buffer' as const]));
}

/** onnxruntime could not allocate memory during a run; the session itself stays usable. */
export class AllocationError extends Error {
  override readonly name = 'AllocationError';
}

/** How onnxruntime's allocators (CPU arena, CUDA, WebGPU buffers) and the C++ runtime report running out. */
const ALLOCATION_FAILURE = /(failed to allocate[^\n]*|bad_alloc|out of memory|cannot allocate memory)/i;

/** The allocation failure in one of onnxruntime's nested messages (If → Loop → node → arena), and the node it hit. */
function allocationFailure(err: unknown): string | undefined {
  const text = err instanceof Error ? err.message : String(err);
  const failure = ALLOCATION_FAILURE.exec(text)?.[1];
  if (!failure) return undefined;
  const node = [...text.matchAll(/running \w+ node\. Name:'([^']+)'/g)].at(-1)?.[1];
  return `${failure.trim()}${node ? ` in node ${node}` : ''}`;
}

/** An explicitly asked-for device cannot be used; the message names what is missing and the fix. */
export class DeviceUnavailableError extends KestrelError {
  override readonly name = 'DeviceUnavailableError';
}

const CUDA_FIX = 'install them with `npm run gpu:cuda` (needs the CUDA 12 and cuDNN 9 runtime), or use --device cpu';

/** onnxruntime-node ships CUDA's provider libraries separately (downloaded by its install script) into its bin folder. */
function missingCudaLibraries(): string | undefined {
  const ortRoot = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const bin = join(ortRoot, 'bin', 'napi-v6', process.platform, process.arch);
  if (process.platform !== 'linux' && process.platform !== 'win32') return `onnxruntime-node has no CUDA provider for ${process.platform}`;
  const libs = process.platform === 'win32' ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll'] : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
  const missing = libs.filter((lib) => !existsSync(join(bin, lib)));
  return missing.length ? `onnxruntime-node's CUDA provider libraries are not installed (${missing.join(', ')} missing from ${bin}); ${CUDA_FIX}` : undefined;
}

/**
 * Why each GPU device failed in this process, by device and how it was asked for (`auto` also
 * refuses a software Vulkan device), so the fallback note is printed once, not per session.
 */
const unavailable = new Map<`${'cuda' | 'webgpu'}:${Device}`, string>();
let fallbackNoted = false;

/** onnxruntime's message without the source location and failed check that lead it. */
function ortMessage(err: unknown): string {
  const message = messageOf(err).replace(/\s+/g, ' ').trim();
  return message.replace(/^\S+\.(?:cc|cpp|h):\d+ .*? was false\. /, '').slice(0, 300);
}

/**
 * `KESTREL_ORT_PROFILE=<folder>`: every session writes onnxruntime's own profile (session
 * creation, then each node's run time, in Chrome's trace-event JSON) to
 * `<folder>/<model folder>-<model name>_<date>.json` when it is released (the folder is made if
 * its parent exists). `scripts/ort-profile.ts` turns it into a per-op table.
 */
export const PROFILE_ENV = 'KESTREL_ORT_PROFILE';

function profiling(modelPath: string): { enableProfiling: true; profileFilePrefix: string } | undefined {
  const dir = process.env[PROFILE_ENV];
  if (!dir) return undefined;
  // One level only, as every writer in Kestrel (a recursive mkdir never returns for paths such as /proc/x).
  if (!existsSync(dir)) {
    try {
      mkdirSync(dir);
    } catch (err) {
      throw new Error(`${PROFILE_ENV}=${dir}: cannot make the profile folder (${(err as NodeJS.ErrnoException).code ?? String(err)}); point it at a folder whose parent exists`);
    }
  }
  return { enableProfiling: true, profileFilePrefix: join(resolve(dir), `${basename(dirname(resolve(modelPath)))}-${basename(modelPath, '.onnx')}`) };
}

/**
 * onnxruntime's CPU QMoE has a fast int4 kernel (MLAS's Q4 GEMM) that it turns off by default
 * for symmetric 4-bit experts, because it re-quantises them with its own rule and lost accuracy
 * on weights quantised otherwise. Kestrel quantises experts with that very rule
 * (quantization/int4-blocks.ts), so the repacked experts are bit-identical, and the kernel is
 * 10–40× faster per decode step here (scripts/bench-experts.ts). The variable is read when a
 * session is created; a value the user set is left alone.
 */
process.env.ORT_USE_MLAS_Q4_GEMM_MOE ??= '1';

/**
 * onnxruntime's own log goes straight to stderr: warnings such as "Some nodes were not assigned
 * to the preferred execution providers" on every GPU session, and each failed kernel again
 * before the error reaches us. Kestrel reports failures itself, in one line, so only fatal
 * messages are let through.
 */
const ORT_LOG_FATAL_ONLY = 4;

async function create(modelPath: string, device: ExecutionDevice, opts: SessionOptions): Promise<ort.InferenceSession> {
  const placement = outputPlacement(device, opts.keepOnDevice);
  if (device === 'webgpu') ensureRuntimeDir();
  const forced = device === 'webgpu' && opts.cpuNodes?.length ? [...opts.cpuNodes] : undefined;
  return ort.InferenceSession.create(modelPath, {
    executionProviders: [forced ? { name: 'webgpu', forceCpuNodeNames: forced } : device],
    graphOptimizationLevel: opts.graphOptimization ?? 'all',
    ...(opts.verboseLog ? { logSeverityLevel: 0 as const, logVerbosityLevel: 0 } : { logSeverityLevel: ORT_LOG_FATAL_ONLY }),
    ...profiling(modelPath),
    ...(placement ? { preferredOutputLocation: placement } : {}),
    ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
  });
}

/** Tries a GPU device; undefined (and the reason remembered) when it cannot be used here. */
async function tryDevice(modelPath: string, device: 'cuda' | 'webgpu', wanted: Device, opts: SessionOptions): Promise<ort.InferenceSession | undefined> {
  const key = `${device}:${wanted}` as const;
  if (unavailable.has(key)) return undefined;
  const missing = device === 'cuda' ? missingCudaLibraries() : webGpuBlocker(wanted === 'auto' ? 'auto' : 'webgpu');
  if (missing) {
    unavailable.set(key, missing);
    return undefined;
  }
  try {
    return await create(modelPath, device, opts);
  } catch (err) {
    unavailable.set(key, `${device === 'cuda' ? 'the CUDA provider' : 'WebGPU'} failed to start (${ortMessage(err)})${device === 'cuda' ? `; ${CUDA_FIX}` : ''}`);
    return undefined;
  }
}

/** Picks the execution provider: an explicit GPU device that fails is an error, `auto` falls back with one note. */
async function createForDevice(modelPath: string, opts: SessionOptions): Promise<{ session: ort.InferenceSession; device: ExecutionDevice }> {
  const wanted = opts.device ?? 'cpu';
  const order: ('cuda' | 'webgpu')[] = wanted === 'auto' ? ['cuda', 'webgpu'] : wanted === 'cpu' ? [] : [wanted];
  for (const device of order) {
    const session = await tryDevice(modelPath, device, wanted, opts);
    if (session) return { session, device };
    if (wanted !== 'auto') throw new DeviceUnavailableError(`device ${device}: ${unavailable.get(`${device}:${wanted}`)}`);
  }
  if (wanted === 'auto' && !fallbackNoted) {
    fallbackNoted = true;
    const why = order.map((d) => unavailable.get(`${d}:auto`)).join('; ');
    note(opts, `kestrel: no GPU device, running on the CPU: ${why}`);
  }
  return { session: await create(modelPath, 'cpu', opts), device: 'cpu' };
}

/** The GPU tensors behind the device values this module handed out. */
const deviceTensors = new WeakMap<DeviceValue, ort.Tensor>();

function deviceValue(tensor: ort.Tensor): DeviceValue {
  const value: DeviceValue = { location: 'device', type: tensor.type, dims: tensor.dims, dispose: () => tensor.dispose() };
  deviceTensors.set(value, tensor);
  return value;
}

function onDevice(value: DeviceValue): ort.Tensor {
  const tensor = deviceTensors.get(value);
  if (!tensor) throw new Error('a device value can only be fed to the session backend that made it');
  return tensor;
}

/** Opens an .onnx file by path so its external weights are memory-mapped, not copied. */
export async function openSession(modelPath: string, opts: SessionOptions = {}): Promise<ModelSession> {
  const profiled = Boolean(process.env[PROFILE_ENV]);
  const { session, device } = await createForDevice(modelPath, opts);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    device,
    async run(feeds, outputs) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, f] of Object.entries(feeds)) tensors[name] = isDeviceValue(f) ? onDevice(f) : new ort.Tensor(f.type, f.data, f.dims);
      let result: ort.InferenceSession.ReturnType;
      try {
        result = outputs ? await session.run(tensors, [...outputs]) : await session.run(tensors);
      } catch (err) {
        const failure = allocationFailure(err);
        if (failure) throw new AllocationError(`onnxruntime: ${failure}`);
        throw err;
      }
      const out: Record<string, OutputValue | DeviceValue> = {};
      for (const [name, t] of Object.entries(result)) {
        out[name] = t.location === 'gpu-buffer' ? deviceValue(t) : { type: t.type, data: t.data as OutputValue['data'], dims: t.dims };
      }
      return out;
    },
    async release() {
      if (profiled) session.endProfiling();
      await session.release();
    },
  };
}

/**
 * Which GPU providers `auto` could start here, judged from libraries, drivers and device files
 * only (no session is created): a provider maps to undefined when usable, else to the reason it
 * is not. For choices made before any model exists, such as an import's default precision.
 */
export function probeGpuDevices(): Record<'cuda' | 'webgpu', string | undefined> {
  return { cuda: missingCudaLibraries(), webgpu: webGpuBlocker('auto') };
}
