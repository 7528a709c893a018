/**
 * Kimi-VL running in this process: chat messages in, text and timings out. Has the shape of
 * shared/model.ts's `VisionLanguageModel`, the seam the agent calls models through. Image
 * parts (bytes or a file path) go through the image processor and the imported vision model;
 * their features fill the `<|media_pad|>` slots of the prefill.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateTokens, type GenerationOutput } from '../../../generation/generate.ts';
import { readJsonFile } from '../../../checkpoint/hf-checkpoint.ts';
import { checkWeightFiles, readAheadSkipReason, type WeightFile } from '../../../checkpoint/read-ahead.ts';
import { AllocationError, type SessionOptions } from '../../../onnx/backend.ts';
import { ChatTemplate, type TemplateMessage, type TemplatePart } from '../processing/chat-template.ts';
import { checkContext, ModelMemoryError, replyBudget } from './context-limit.ts';
import { KIMI_VL_IMAGE_DEFAULTS, parsePreprocessorConfig, type ImageProcessorConfig } from '../processing/image-processing.ts';
import { VisionEncoder } from './vision-session.ts';
import { attachImages, expandMediaPads, imagesInOrder, withImagePrefill, type PromptWithImages } from './multimodal.ts';
import { TextSession, type ImageFeatures } from './text-session.ts';
import { KimiTokenizer, StreamingDecoder } from '../processing/tokenization.ts';
import { describeDevice, LoadReporter, readAheadReporting, weightFiles, type LoadOptions } from './load-progress.ts';
import { readModelFolder } from '../manifest.ts';
import { KestrelError } from '../../../../shared/errors.ts';
import type { ChatMessage, ContentPart, GenerateRequest, GenerateResult } from '../../../../shared/model.ts';

/** A message part: text, or an image as bytes (`{ data }`, the agent's ImageContent) or a file path, checked when the prompt is encoded. */
export type LocalContentPart = Exclude<ContentPart, { type: 'image' }> | { readonly type: 'image'; readonly image: unknown };

export type LocalChatMessage = Omit<ChatMessage, 'content'> & { readonly content: string | readonly LocalContentPart[] };

/** The agent's GenerateRequest; an in-process model never retries, so it has no onRetry. */
export type LocalGenerateRequest = Omit<GenerateRequest, 'messages' | 'onRetry'> & { readonly messages: readonly LocalChatMessage[] };

/** The agent's GenerateResult, always with usage and timings, and the generated token ids. */
export type LocalGenerateResult = GenerateResult & Required<Pick<GenerateResult, 'usage' | 'timings'>> & { readonly tokens: readonly number[] };

export class VisionNotAvailableError extends KestrelError {
  override readonly name = 'VisionNotAvailableError';
  constructor() {
    super('this message has an image, but the model folder has no vision model (imported before vision support); re-run `kestrel model import` to send images');
  }
}

/** The turn-ending tokens: `<|im_end|>` and `[EOS]` (docs/kimi-vl.md#stopping). */
export const END_TOKENS = ['<|im_end|>', '[EOS]'] as const;
export const DEFAULT_MAX_TOKENS = 512;

export function toTemplateMessages(messages: readonly LocalChatMessage[]): TemplateMessage[] {
  return messages.map((m) => {
    if (typeof m.content === 'string') return { role: m.role, content: m.content };
    const parts: TemplatePart[] = m.content.map((p) => (p.type === 'image' ? { type: 'image', image: '' } : { type: 'text', text: p.text }));
    return { role: m.role, content: parts };
  });
}

/** Every text the caller supplied, in conversation order: untrusted, never chat structure. */
function messageTexts(messages: readonly LocalChatMessage[]): string[] {
  return messages.flatMap((m) => (typeof m.content === 'string' ? [m.content] : m.content.flatMap((p) => (p.type === 'text' ? [p.text] : []))));
}

export class KimiVLLocalModel {
  private constructor(
    readonly name: string,
    readonly session: TextSession,
    readonly tokenizer: KimiTokenizer,
    readonly template: ChatTemplate,
    readonly vision: VisionEncoder | undefined,
    readonly imageConfig: ImageProcessorConfig,
  ) {}

  /**
   * Opens an imported folder. Everything cheap is checked first (manifest, config, tokenizer,
   * template, the weight files' sizes); then each model's weights are read ahead, reporting
   * bytes, before onnxruntime creates its session (which reports nothing). The small vision
   * model goes first, so a device that cannot start fails before gigabytes are read.
   */
  static async load(dir: string, opts: SessionOptions & LoadOptions = {}): Promise<KimiVLLocalModel> {
    const { onProgress, signal, readAhead, ...sessionOptions } = opts;
    const started = Date.now();
    const folder = readModelFolder(dir);
    const { manifest, config } = folder;
    const tokenizer = KimiTokenizer.fromDir(dir, config.text.vocabSize);
    const template = ChatTemplate.fromDir(dir);
    const preprocessor = join(dir, 'preprocessor_config.json');
    const imageConfig = existsSync(preprocessor) ? parsePreprocessorConfig(readJsonFile(preprocessor, 'preprocessor_config.json')) : KIMI_VL_IMAGE_DEFAULTS;
    const { text: textWeights, vision: visionWeights } = weightFiles(dir, manifest);
    const all = [...(visionWeights ? [visionWeights] : []), textWeights];
    await checkWeightFiles(all);

    const reporter = new LoadReporter(all.reduce((sum, f) => sum + f.bytes, 0), onProgress);
    const skip = readAheadSkipReason(reporter.total, readAhead?.memoryBytes);
    reporter.report('weights', skip ?? `reading ${(reporter.total / 1e9).toFixed(2)} GB of weights`, skip !== undefined);
    const warm = (file: WeightFile) => (skip ? undefined : readAheadReporting([file], reporter, { signal, readAhead }));
    const on = describeDevice(sessionOptions.device ?? 'cpu');
    let vision: VisionEncoder | undefined;
    let session: TextSession | undefined;
    try {
      if (visionWeights) {
        await warm(visionWeights);
        signal?.throwIfAborted();
        reporter.report('vision', `creating the vision session on ${on}`, true);
        vision = await VisionEncoder.open(join(dir, manifest.vision.graph.file), config.vision, sessionOptions);
      }
      await warm(textWeights);
      signal?.throwIfAborted();
      reporter.report('text', `creating the language model session on ${on}`, true);
      session = await TextSession.open(dir, sessionOptions, undefined, folder);
      signal?.throwIfAborted();
      const model = new KimiVLLocalModel(`kimi-vl (in-process, ${manifest.precision}) @ ${dir}`, session, tokenizer, template, vision, imageConfig);
      reporter.report('ready', `loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`, false, reporter.total);
      return model;
    } catch (err) {
      // A half-opened model holds native memory nobody else can free.
      await vision?.release();
      await session?.release();
      throw err;
    }
  }

  /** The rendered prompt and its token ids. */
  encodeChat(messages: readonly LocalChatMessage[]): { prompt: string; inputIds: number[] } {
    const prompt = this.template.render(toTemplateMessages(messages), { addGenerationPrompt: true });
    return { prompt, inputIds: this.tokenizer.encodePrompt(prompt, messageTexts(messages)) };
  }

  /** The context length (config.json's max_position_embeddings): prompt and reply together. */
  get contextLength(): number {
    return this.session.config.text.maxPositionEmbeddings;
  }

  /**
   * The prompt with each image's `<|media_pad|>` widened, and the images' features for the
   * prefill. A prompt that does not fit the context (leaving room for a reply when `reply` is
   * set) is refused before the vision model runs: once from its text alone, once widened.
   */
  async encodeMultimodal(messages: readonly LocalChatMessage[], reply = false): Promise<PromptWithImages & { prompt: string }> {
    const { prompt, inputIds } = this.encodeChat(messages);
    const images = imagesInOrder(messages);
    const check = (tokens: number) => checkContext(tokens, this.contextLength, reply, images.length > 0);
    check(inputIds.length);
    if (images.length === 0) return { prompt, inputIds: expandMediaPads(inputIds, []).ids, images: undefined, imageTokenCounts: [] };
    if (!this.vision) throw new VisionNotAvailableError();
    return { prompt, ...(await this.withinMemory(inputIds.length, () => attachImages(inputIds, images, this.vision!, this.imageConfig, check))) };
  }

  /** Next-token logits after the prompt (what `kestrel model logits` prints). */
  async logits(messages: readonly LocalChatMessage[]): Promise<{ prompt: string; inputIds: number[]; logits: Float32Array; images: ImageFeatures | undefined }> {
    const { prompt, inputIds, images } = await this.encodeMultimodal(messages);
    const { logits } = await this.withinMemory(inputIds.length, () => this.session.forward(inputIds, undefined, images));
    return { prompt, inputIds, logits, images };
  }

  async generate(request: LocalGenerateRequest): Promise<LocalGenerateResult> {
    const { inputIds, images } = await this.encodeMultimodal(request.messages, true);
    const maxNewTokens = replyBudget(inputIds.length, this.contextLength, request.maxTokens ?? DEFAULT_MAX_TOKENS);
    const out: GenerationOutput = await this.withinMemory(inputIds.length, () => generateTokens(withImagePrefill(this.session, images), inputIds, new StreamingDecoder(this.tokenizer, { skipSpecialTokens: true }), {
      maxNewTokens,
      temperature: request.temperature,
      topP: request.topP,
      seed: request.seed,
      stopStrings: request.stop,
      stopTokens: new Set(END_TOKENS.map((t) => this.tokenizer.tokenId(t))),
      signal: request.signal,
      onToken: request.onToken,
    }));
    return {
      text: out.text,
      finishReason: out.finishReason,
      usage: { promptTokens: out.promptTokens, completionTokens: out.tokens.length },
      timings: out.timings,
      tokens: out.tokens,
    };
  }

  async release(): Promise<void> {
    await this.vision?.release();
    await this.session.release();
  }

  /** Runs model work, turning onnxruntime's failed allocations into one clear error. */
  private async withinMemory<T>(promptTokens: number, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      throw new ModelMemoryError(`out of memory on a prompt of ${promptTokens.toLocaleString('en-US')} tokens (${err.message}); free memory, shorten the prompt, send fewer or smaller images, or use an int4 import`);
    }
  }
}
