/**
 * The seam between the agent and any vision-language model: an OpenAI-compatible endpoint
 * today, the in-process ONNX model (native-models/) tomorrow. native-models implements this
 * shape structurally, without importing agent/; hosts (cli/, main/) pass an instance in.
 */

export interface ImageContent {
  readonly mimeType: 'image/png' | 'image/jpeg';
  readonly data: Uint8Array;
}

export type ContentPart =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image'; readonly image: ImageContent };

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string | readonly ContentPart[];
}

export interface GenerateRequest {
  readonly messages: readonly ChatMessage[];
  readonly maxTokens?: number;
  /** 0 means greedy. */
  readonly temperature?: number;
  readonly topP?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
  readonly signal?: AbortSignal;
  /** Called with each new piece of text as it is generated (streaming). */
  readonly onToken?: (delta: string) => void;
  /**
   * Called when a request failed in a way worth trying again (a server's 429 or 5xx, a network
   * error, a timeout), before the next attempt. Models that never retry (in-process) ignore it.
   */
  readonly onRetry?: (retry: ModelRetry) => void;
}

export interface ModelRetry {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** How long until the next attempt. */
  readonly delayMs: number;
  /** What went wrong, in one line. */
  readonly error: string;
}

export interface GenerateTimings {
  readonly totalMs: number;
  readonly firstTokenMs?: number;
  readonly promptTokensPerSecond?: number;
  readonly decodeTokensPerSecond?: number;
}

export interface GenerateResult {
  readonly text: string;
  readonly finishReason: 'stop' | 'length' | 'abort';
  readonly usage?: { readonly promptTokens: number; readonly completionTokens: number };
  readonly timings?: GenerateTimings;
}

export interface VisionLanguageModel {
  /** Shown in logs, trajectories and the UI, e.g. "kimi-vl-a3b-instruct @ http://gpu:8000/v1". */
  readonly name: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
}
