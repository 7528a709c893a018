/**
 * The only file that imports onnxruntime-node. Everything else talks to sessions through the
 * small `ModelSession` shape below, so another backend (web, a different EP) can slot in.
 */
import * as ort from 'onnxruntime-node';

export type FeedValue =
  | { readonly type: 'int64'; readonly data: BigInt64Array; readonly dims: readonly number[] }
  | { readonly type: 'float32'; readonly data: Float32Array; readonly dims: readonly number[] }
  | { readonly type: 'float16'; readonly data: Uint16Array; readonly dims: readonly number[] };

export interface OutputValue {
  readonly type: string;
  readonly data: Float32Array | Uint16Array | BigInt64Array;
  readonly dims: readonly number[];
}

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, FeedValue>>, outputs?: readonly string[]): Promise<Record<string, OutputValue>>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /** Threads for one operator; default lets onnxruntime decide (all cores). */
  readonly intraOpThreads?: number;
}

/** Opens an .onnx file by path so its external weights are memory-mapped, not copied. */
export async function openSession(modelPath: string, opts: SessionOptions = {}): Promise<ModelSession> {
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
  });
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, outputs) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, f] of Object.entries(feeds)) tensors[name] = new ort.Tensor(f.type, f.data, f.dims);
      const result = outputs ? await session.run(tensors, [...outputs]) : await session.run(tensors);
      const out: Record<string, OutputValue> = {};
      for (const [name, t] of Object.entries(result)) {
        out[name] = { type: t.type, data: t.data as OutputValue['data'], dims: t.dims };
      }
      return out;
    },
    release: () => session.release(),
  };
}
