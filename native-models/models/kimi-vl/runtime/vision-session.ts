/** The vision model at run time: the graph `kestrel model import` wrote (import-vision.ts), opened as a session. */
import { openSession, type ModelSession, type SessionOptions } from '../../../onnx/backend.ts';
import type { KimiVisionConfig } from '../configuration.ts';
import type { ProcessedImages } from '../processing/image-processing.ts';
import { encodeImages } from '../graphs/modeling-vision.ts';

/** The imported vision model, ready to turn processed images into `<|media_pad|>` features. */
export class VisionEncoder {
  private constructor(
    private readonly session: ModelSession,
    readonly config: KimiVisionConfig,
  ) {}

  static async open(modelFile: string, config: KimiVisionConfig, opts: SessionOptions = {}): Promise<VisionEncoder> {
    return new VisionEncoder(await openSession(modelFile, opts), config);
  }

  /** Features [Σ tokens, text hidden], images in order. */
  encode(images: Pick<ProcessedImages, 'pixelValues' | 'gridHws'>): Promise<Float32Array> {
    return encodeImages(this.session, this.config, images);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
