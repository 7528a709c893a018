import type { GenerateRequest, GenerateResult, VisionLanguageModel } from '../model.ts';

/** One scripted model turn: a reply, an error to throw, or a function of the request. */
export type ScriptedTurn =
  | string
  | Error
  | { readonly text: string; readonly finishReason?: GenerateResult['finishReason']; readonly delayMs?: number }
  | ((request: GenerateRequest, call: number) => string | Error | Promise<string | Error>);

const delay = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((done, fail) => {
    if (signal?.aborted) return fail(signal.reason);
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), fail(signal.reason)), { once: true });
  });

/**
 * A model that answers from a script, streams each reply through onToken in small pieces, and
 * records every request. Runs out loudly: a request past the end of the script throws.
 */
export class ScriptedModel implements VisionLanguageModel {
  readonly name: string;
  readonly requests: GenerateRequest[] = [];
  private readonly turns: ScriptedTurn[];

  constructor(turns: readonly ScriptedTurn[], name = 'scripted-model') {
    this.turns = [...turns];
    this.name = name;
  }

  push(...turns: ScriptedTurn[]): void {
    this.turns.push(...turns);
  }

  get remaining(): number {
    return this.turns.length;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.requests.push(request);
    const call = this.requests.length;
    const turn = this.turns.shift();
    if (turn === undefined) throw new Error(`the scripted model has no reply for request ${call}`);
    const started = performance.now();
    let reply = typeof turn === 'function' ? await turn(request, call) : turn;
    if (reply instanceof Error) throw reply;
    if (typeof reply === 'string') reply = { text: reply };
    if (reply.delayMs) await delay(reply.delayMs, request.signal);
    if (request.signal?.aborted) throw request.signal.reason;
    for (let i = 0; i < reply.text.length; i += 8) request.onToken?.(reply.text.slice(i, i + 8));
    return {
      text: reply.text,
      finishReason: reply.finishReason ?? 'stop',
      usage: { promptTokens: 1000, completionTokens: Math.ceil(reply.text.length / 4) },
      timings: { totalMs: performance.now() - started },
    };
  }
}
