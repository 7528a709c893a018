import type { DesktopAction } from '../../shared/actions.ts';
import type { GenerateRequest, GenerateResult, VisionLanguageModel } from '../../shared/model.ts';
import type { DisplayInfo, Operator, Screenshot } from '../operator.ts';

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

export interface RecordingOperatorOptions {
  readonly display?: DisplayInfo;
  readonly displays?: readonly DisplayInfo[];
  /** The first this many screenshot() calls throw (a flaky capture). */
  readonly failScreenshots?: number;
  /** Each execute() takes this long (and honours the abort signal meanwhile). */
  readonly actionDelayMs?: number;
  /** Return an error to make execute() fail for that action. */
  readonly failOn?: (action: DesktopAction) => Error | undefined;
  /** Return a reason to refuse an action up front (as a keyboard layout without that key would). */
  readonly refuse?: (action: DesktopAction) => string | undefined;
}

export const FAKE_DISPLAY: DisplayInfo = { id: 'fake-0', name: 'fake', bounds: { x: 0, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: true };

/**
 * An Operator that records what it is asked to do instead of touching a desktop. Its
 * "screen" changes with every executed action (the bytes encode a frame counter), so settle
 * waits see one changed capture and then a still one, as on a real desktop.
 */
export class RecordingOperator implements Operator {
  readonly executed: DesktopAction[] = [];
  readonly calls: string[] = [];
  screenshotCalls = 0;
  private frame = 0;
  private failuresLeft: number;

  constructor(private readonly options: RecordingOperatorOptions = {}) {
    this.failuresLeft = options.failScreenshots ?? 0;
  }

  get display(): DisplayInfo {
    return this.options.display ?? FAKE_DISPLAY;
  }

  async displays(): Promise<readonly DisplayInfo[]> {
    return this.options.displays ?? [this.display];
  }

  async screenshot(): Promise<Screenshot> {
    this.screenshotCalls++;
    this.calls.push('screenshot');
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('capture failed (scripted)');
    }
    const { width, height } = this.display.bounds;
    const s = this.display.scaleFactor;
    const png = new TextEncoder().encode(`fake-png frame=${this.frame}`);
    return { png, width: width * s, height: height * s, display: this.display, capturedAt: Date.now() };
  }

  async refusal(action: DesktopAction): Promise<string | undefined> {
    return this.options.refuse?.(action);
  }

  async execute(action: DesktopAction, signal?: AbortSignal): Promise<void> {
    this.calls.push(`execute:${action.kind}`);
    const error = this.options.failOn?.(action);
    if (error) throw error;
    if (this.options.actionDelayMs) await delay(this.options.actionDelayMs, signal);
    this.executed.push(action);
    this.frame++;
  }
}
