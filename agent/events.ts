import type { Action, DesktopAction } from './actions.ts';
import type { DisplayInfo } from './operator.ts';

/**
 * How a run ended. 'finished', 'failed' and 'call_user' come from the model; the rest from
 * stop rules, the person, or errors.
 */
export type RunStatus =
  | 'finished'
  | 'failed'
  | 'call_user'
  | 'max_steps'
  | 'repeated_action'
  | 'time_limit'
  | 'aborted'
  | 'error';

/**
 * Everything a host (CLI, Electron, browser host) can show about a run, in order. Plain data
 * only (strings, numbers, arrays, plain objects, Uint8Array) so events cross IPC and, with
 * bytes base64-encoded, a WebSocket unchanged.
 */
export type AgentEvent =
  | {
      readonly type: 'run_started';
      readonly runId: string;
      readonly instruction: string;
      readonly model: string;
      readonly display: DisplayInfo;
      readonly startedAt: number;
    }
  | { readonly type: 'step_started'; readonly step: number }
  | {
      readonly type: 'screenshot';
      readonly step: number;
      readonly png: Uint8Array;
      readonly width: number;
      readonly height: number;
    }
  /** Streamed text while the model is generating. */
  | { readonly type: 'token'; readonly step: number; readonly delta: string }
  /** The model's reply, parsed: announced before anything is executed (the overlay shows it). */
  | {
      readonly type: 'planned';
      readonly step: number;
      readonly response: string;
      readonly thinking?: string;
      readonly actions: readonly Action[];
      readonly desktopActions: readonly DesktopAction[];
      readonly modelMs: number;
    }
  | { readonly type: 'awaiting_confirmation'; readonly step: number }
  | {
      readonly type: 'action_executed';
      readonly step: number;
      readonly index: number;
      readonly action: DesktopAction;
      readonly ms: number;
    }
  | { readonly type: 'step_finished'; readonly step: number; readonly ms: number }
  /** A screenshot or model request failed and will be tried again (attempt `attempt` of `attempts`). */
  | {
      readonly type: 'retry';
      readonly step: number;
      readonly what: 'screenshot' | 'model';
      readonly attempt: number;
      readonly attempts: number;
      readonly delayMs: number;
      readonly error: string;
    }
  /** A reply that did not parse, fed back to the model once with the parser's message. */
  | { readonly type: 'correction'; readonly step: number; readonly error: string }
  | { readonly type: 'paused' }
  | { readonly type: 'resumed' }
  | {
      readonly type: 'run_finished';
      readonly status: RunStatus;
      readonly reason: string;
      readonly steps: number;
      readonly answer?: string;
      readonly durationMs: number;
    };

export type AgentEventType = AgentEvent['type'];
