/**
 * What `kestrel model info` reports about an imported folder: from its manifest and config.json
 * alone (no weights read) the precision, sizes, context length and KV cache; and, for a device,
 * where onnxruntime places each node of the text and vision graphs (placement.ts) — how many
 * fall back to the CPU, of which op types, and which of those are heavy (placement-check.ts).
 */
import { join } from 'node:path';
import { sha256Origin, type Sha256Origin } from '../../../checkpoint/source-files.ts';
import type { Device, ExecutionDevice } from '../../../onnx/device.ts';
import { readPlacement } from '../../../onnx/placement.ts';
import type { ModelFolder } from '../manifest.ts';
import { defaultCacheType, routedExpertNodes, type CacheType, type Precision } from '../graphs/modeling-text.ts';
import { summarizePlacement, type PlacementSummary } from './placement-check.ts';

export interface ModelInfo {
  readonly dir: string;
  readonly precision: Precision;
  readonly createdAt: string;
  readonly weights: { readonly text: number; readonly vision: number };
  readonly layers: number;
  readonly vocabSize: number;
  /** max_position_embeddings: the longest prompt plus reply the model takes. */
  readonly contextLength: number;
  readonly cache: { readonly type: CacheType; readonly valuesPerToken: number; readonly bytesPerToken: number; readonly bytesAtContext: number };
  readonly visionBlocks: number;
  /** The checkpoint it was imported from: its files, their bytes, and how many were identified each way. */
  readonly source: { readonly dir: string; readonly files: number; readonly bytes: number; readonly sha256: Readonly<Record<Sha256Origin | 'not hashed', number>> };
}

export function modelInfo({ dir, manifest, config }: ModelFolder): ModelInfo {
  const type = manifest.text.cacheType ?? defaultCacheType(manifest.precision);
  const valuesPerToken = manifest.text.layers * manifest.text.cacheWidth;
  const bytesPerToken = valuesPerToken * (type === 'fp16' ? 2 : 4);
  const sha256 = { hashed: 0, 'hf-cache-name': 0, 'not hashed': 0 };
  for (const file of manifest.source.files) sha256[sha256Origin(file)]++;
  return {
    dir,
    precision: manifest.precision,
    createdAt: manifest.createdAt,
    weights: { text: manifest.text.weights.bytes, vision: manifest.vision.weights.bytes },
    layers: manifest.text.layers,
    vocabSize: manifest.text.vocabSize,
    contextLength: config.text.maxPositionEmbeddings,
    cache: { type, valuesPerToken, bytesPerToken, bytesAtContext: bytesPerToken * config.text.maxPositionEmbeddings },
    visionBlocks: config.vision.numHiddenLayers,
    source: { dir: manifest.source.dir, files: manifest.source.files.length, bytes: manifest.source.files.reduce((sum, f) => sum + f.bytes, 0), sha256 },
  };
}

export interface DevicePlacement {
  /** The device the graphs were opened on (what `auto` resolved to). */
  readonly device: ExecutionDevice;
  readonly text: PlacementSummary;
  readonly vision: PlacementSummary;
}

/** Opens both graphs on the device, as a run would, and summarises where their nodes went. */
export async function devicePlacement({ dir, manifest, config }: ModelFolder, device: Device): Promise<DevicePlacement> {
  // The small vision graph first: a device that cannot start fails before the large one loads.
  const vision = await readPlacement(join(dir, manifest.vision.graph.file), device);
  // The text session keeps the experts off WebGPU (text-session.ts); so does this.
  const text = await readPlacement(join(dir, manifest.text.graph.file), vision.device, { cpuNodes: routedExpertNodes(config.text) });
  return { device: text.device, text: summarizePlacement(text, 'text', manifest.precision), vision: summarizePlacement(vision, 'vision', manifest.precision) };
}
