/**
 * Kimi-VL running in this process: chat messages in, text and timings out. Has the shape of
 * agent/model.ts's `VisionLanguageModel` (implemented structurally; native-models never
 * imports agent/). Images are refused until the vision tower lands (issue 5).
 */
import { generateTokens, type GenerationOutput } from '../../generation/generate.ts';
import type { SessionOptions } from '../../onnx/backend.ts';
import { ChatTemplate, type TemplateMessage, type TemplatePart } from './chat-template.ts';
import { TextSession } from './text-session.ts';
import { KimiTokenizer, StreamingDecoder } from './tokenization.ts';

export type LocalContentPart =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image'; readonly image: unknown };

export interface LocalChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string | readonly LocalContentPart[];
}

export interface LocalGenerateRequest {
  readonly messages: readonly LocalChatMessage[];
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onToken?: (delta: string) => void;
}

export interface LocalGenerateResult {
  readonly text: string;
  readonly finishReason: 'stop' | 'length' | 'abort';
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
  readonly timings: {
    readonly totalMs: number;
    readonly firstTokenMs?: number;
    readonly promptTokensPerSecond?: number;
    readonly decodeTokensPerSecond?: number;
  };
  readonly tokens: readonly number[];
}

export class VisionNotAvailableError extends Error {
  override readonly name = 'VisionNotAvailableError';
  constructor() {
    super('this message has an image, but the in-process vision tower is not built yet (issue 5); send text only');
  }
}

/** The turn-ending tokens: `<|im_end|>` and `[EOS]` (KIMI-VL-FACTS §5.5). */
export const END_TOKENS = ['<|im_end|>', '[EOS]'] as const;
export const DEFAULT_MAX_TOKENS = 512;

export function toTemplateMessages(messages: readonly LocalChatMessage[]): TemplateMessage[] {
  return messages.map((m) => {
    if (typeof m.content === 'string') return { role: m.role, content: m.content };
    const parts: TemplatePart[] = m.content.map((p) => {
      if (p.type === 'image') throw new VisionNotAvailableError();
      return { type: 'text', text: p.text };
    });
    return { role: m.role, content: parts };
  });
}

export class KimiVLLocalModel {
  private constructor(
    readonly name: string,
    readonly session: TextSession,
    readonly tokenizer: KimiTokenizer,
    readonly template: ChatTemplate,
  ) {}

  static async load(dir: string, opts: SessionOptions = {}): Promise<KimiVLLocalModel> {
    const session = await TextSession.open(dir, opts);
    const tokenizer = KimiTokenizer.fromDir(dir, session.config.text.vocabSize);
    const template = ChatTemplate.fromDir(dir);
    return new KimiVLLocalModel(`kimi-vl (in-process, ${session.manifest.precision}) @ ${dir}`, session, tokenizer, template);
  }

  /** The rendered prompt and its token ids. */
  encodeChat(messages: readonly LocalChatMessage[]): { prompt: string; inputIds: number[] } {
    const prompt = this.template.render(toTemplateMessages(messages), { addGenerationPrompt: true });
    return { prompt, inputIds: this.tokenizer.encode(prompt) };
  }

  /** Next-token logits after the prompt (what `kestrel model logits` prints). */
  async logits(messages: readonly LocalChatMessage[]): Promise<{ prompt: string; inputIds: number[]; logits: Float32Array }> {
    const { prompt, inputIds } = this.encodeChat(messages);
    const { logits } = await this.session.forward(inputIds);
    return { prompt, inputIds, logits };
  }

  async generate(request: LocalGenerateRequest): Promise<LocalGenerateResult> {
    const { inputIds } = this.encodeChat(request.messages);
    const out: GenerationOutput = await generateTokens(this.session, inputIds, new StreamingDecoder(this.tokenizer, { skipSpecialTokens: true }), {
      maxNewTokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      temperature: request.temperature,
      topP: request.topP,
      seed: request.seed,
      stopStrings: request.stop,
      stopTokens: new Set(END_TOKENS.map((t) => this.tokenizer.tokenId(t))),
      signal: request.signal,
      onToken: request.onToken,
    });
    return {
      text: out.text,
      finishReason: out.finishReason,
      usage: { promptTokens: out.promptTokens, completionTokens: out.tokens.length },
      timings: out.timings,
      tokens: out.tokens,
    };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
