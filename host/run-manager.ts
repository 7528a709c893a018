import { randomUUID } from 'node:crypto';
import type { AgentEvent } from '../agent/types.ts';
import { PauseController } from '../agent/index.ts';
import type { Settings } from './settings.ts';
import type { HostEvent, RunRequest, RunState } from './types.ts';
import { KestrelError } from '../shared/errors.ts';
import { messageOf } from '../shared/one-line.ts';

/** What a runner gets for one run: the request, the controls, and where events go. */
export interface RunContext {
  readonly runId: string;
  readonly request: RunRequest;
  readonly settings: Settings;
  readonly signal: AbortSignal;
  readonly emit: (event: AgentEvent) => void;
  /** Pause and resume: runAgent's own pause path (it waits at its checkpoints and says paused/resumed). */
  readonly pause: PauseController;
  /** When confirm-each-action is on: waits for the person's answer about this step. */
  readonly confirm?: (step: number) => Promise<boolean>;
  /** Tells every window where the run is recorded (RunState.savedTo), so the Run screen can say. */
  readonly recordingIn: (folder: string) => void;
}

/** The seam to the agent loop: the host adapts runAgent (or a test fake) to this shape. */
export type AgentRunner = (context: RunContext) => Promise<void>;

export class RunRefused extends KestrelError {
  override readonly name = 'RunRefused';
}

interface Active {
  readonly runId: string;
  readonly controller: AbortController;
  readonly pause: PauseController;
  confirmation?: { step: number; answer: (approve: boolean) => void };
  finished: boolean;
}

/**
 * One run at a time, with pause, stop and per-step confirmation. Everything that happens is
 * pushed to listeners as HostEvents, so every window (and every browser tab) sees the same.
 */
export class RunManager {
  private active: Active | undefined;
  private state: RunState = { phase: 'idle', step: 0, awaitingConfirmation: false };
  private readonly listeners = new Set<(event: HostEvent) => void>();
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly runner: AgentRunner,
    private readonly settings: () => Settings,
  ) {}

  subscribe(listener: (event: HostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  current(): RunState {
    return this.state;
  }

  /** Resolves when the current run (if any) has ended and its last event was sent. */
  idle(): Promise<void> {
    return this.finished;
  }

  start(request: RunRequest): RunState {
    if (this.active) throw new RunRefused('a run is already in progress; stop it before starting another');
    const settings = { ...this.settings() };
    if (request.maxSteps !== undefined) Object.assign(settings, { maxSteps: request.maxSteps });
    const confirmEach = request.confirmEachAction ?? settings.confirmEachAction;
    const active: Active = {
      runId: randomUUID(),
      controller: new AbortController(),
      pause: new PauseController(),
      finished: false,
    };
    this.active = active;
    this.setState({
      phase: 'running',
      runId: active.runId,
      instruction: request.instruction,
      step: 0,
      awaitingConfirmation: false,
    });
    const emit = (event: AgentEvent) => this.onAgentEvent(active, event);
    const context: RunContext = {
      runId: active.runId,
      request: { ...request, confirmEachAction: confirmEach },
      settings,
      signal: active.controller.signal,
      emit,
      pause: active.pause,
      confirm: confirmEach ? (step) => this.askConfirmation(active, step) : undefined,
      recordingIn: (folder) => {
        if (this.active === active) this.setState({ ...this.state, savedTo: folder });
      },
    };
    const started = Date.now();
    // Started on the next tick so that the caller has its 'running' answer before any event.
    this.finished = Promise.resolve()
      .then(() => this.runner(context))
      .then(
      () => this.end(active, { status: 'aborted', reason: 'the run ended without a result', started }),
      (err: unknown) =>
        this.end(active, {
          status: active.controller.signal.aborted ? 'aborted' : 'error',
          reason: active.controller.signal.aborted ? 'stopped' : messageOf(err),
          started,
        }),
    );
    return this.state;
  }

  pause(): RunState {
    const active = this.requireActive('pause');
    if (!active.pause.paused) {
      active.pause.pause();
      this.setState({ ...this.state, phase: 'paused' });
    }
    return this.state;
  }

  resume(): RunState {
    const active = this.requireActive('resume');
    if (active.pause.paused) {
      active.pause.resume();
      this.setState({ ...this.state, phase: 'running' });
    }
    return this.state;
  }

  /** Aborts the run; the loop's signal fires at once, so at most the current action completes. */
  stop(): RunState {
    const active = this.active;
    if (!active) return this.state;
    // The abort also wakes a paused loop.
    active.controller.abort(new Error('stopped by the person'));
    active.confirmation?.answer(false);
    this.setState({ ...this.state, phase: 'stopping', awaitingConfirmation: false });
    return this.state;
  }

  confirm(approve: boolean): RunState {
    const active = this.requireActive('confirm');
    if (!active.confirmation) throw new RunRefused('the run is not waiting for a confirmation');
    active.confirmation.answer(approve);
    return this.state;
  }

  private requireActive(what: string): Active {
    if (!this.active) throw new RunRefused(`there is no run to ${what}; start one first`);
    return this.active;
  }

  private askConfirmation(active: Active, step: number): Promise<boolean> {
    if (active.controller.signal.aborted) return Promise.resolve(false);
    return new Promise((done) => {
      active.confirmation = {
        step,
        answer: (approve) => {
          active.confirmation = undefined;
          if (this.active === active) this.setState({ ...this.state, awaitingConfirmation: false });
          done(approve);
        },
      };
      this.setState({ ...this.state, awaitingConfirmation: true });
    });
  }

  private onAgentEvent(active: Active, event: AgentEvent): void {
    if (active.finished) return;
    this.broadcastAgent(active, event);
    if (event.type === 'step_started') this.setState({ ...this.state, step: event.step });
    if (event.type === 'run_finished') this.finish(active, event.status, event.reason);
  }

  private end(active: Active, outcome: { status: 'aborted' | 'error'; reason: string; started: number }): void {
    if (active.finished) return;
    const event: AgentEvent = {
      type: 'run_finished',
      status: outcome.status,
      reason: outcome.reason,
      steps: this.state.step,
      durationMs: Date.now() - outcome.started,
    };
    this.broadcastAgent(active, event);
    this.finish(active, outcome.status, outcome.reason);
  }

  private finish(active: Active, status: RunState['lastStatus'], reason: string): void {
    active.finished = true;
    if (this.active === active) this.active = undefined;
    const { instruction, step, savedTo } = this.state;
    this.setState({ phase: 'idle', runId: active.runId, instruction, step, awaitingConfirmation: false, ...(savedTo ? { savedTo } : {}), lastStatus: status, lastReason: reason });
  }

  private broadcastAgent(active: Active, event: AgentEvent): void {
    this.broadcast({ type: 'agent', runId: active.runId, event });
  }

  private setState(state: RunState): void {
    this.state = state;
    this.broadcast({ type: 'state', state });
  }

  private broadcast(event: HostEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One broken window must not stop the others from hearing about the run.
      }
    }
  }
}
