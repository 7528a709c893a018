import type { Action, AgentEvent, KestrelBridge, HostEvent, RunState } from '../../../host/ui-types.ts';
import { describeAction } from '../lib/actions.ts';
import { pngUrl } from '../lib/images.ts';
import { messageOf } from '../../../shared/one-line.ts';

export interface StepView {
  step: number;
  screenshotUrl?: string;
  width: number;
  height: number;
  /** Text streamed while the model generates; replaced by `response` once planned. */
  tokens: string;
  response?: string;
  thinking?: string;
  actions: Action[];
  executed: number;
  modelMs?: number;
  ms?: number;
  notes: string[];
}

type Finished = Extract<AgentEvent, { type: 'run_finished' }>;

const IDLE: RunState = { phase: 'idle', step: 0, awaitingConfirmation: false };

/** The Run screen: the request being composed and the live timeline of the current run. */
export class RunModel {
  instruction = $state('');
  displayId = $state('');
  confirmEach = $state(false);
  state: RunState = $state.raw(IDLE);
  steps: StepView[] = $state([]);
  model = $state('');
  finished: Finished | undefined = $state.raw();
  error = $state('');
  private runId: string | undefined;
  /** Counts state events, so a reply that arrives after newer events does not undo them. */
  private stateEvents = 0;

  constructor(
    private readonly bridge: () => KestrelBridge | undefined,
    private readonly announce: (message: string) => void,
  ) {}

  get busy(): boolean {
    return this.state.phase !== 'idle';
  }

  async start(): Promise<void> {
    const bridge = this.bridge();
    if (!bridge || this.busy) return;
    this.error = '';
    if (!this.instruction.trim()) {
      this.error = 'Type an instruction first.';
      this.announce(this.error);
      return;
    }
    this.clear();
    try {
      const state = await this.reply(
        bridge.call('run.start', {
          instruction: this.instruction.trim(),
          displayId: this.displayId || undefined,
          confirmEachAction: this.confirmEach,
        }),
      );
      this.runId = state.runId;
    } catch (err) {
      this.fail(err);
    }
  }

  pause = () => this.control('run.pause');
  resume = () => this.control('run.resume');
  stop = () => this.control('run.stop');

  async confirm(approve: boolean): Promise<void> {
    try {
      await this.reply(this.bridge()!.call('run.confirm', { approve }));
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * A control's answer, taken as the state unless state events came meanwhile: the run's own
   * events can overtake the reply (a run that asks for confirmation at once, one that ends as
   * it is stopped), and they are newer.
   */
  private async reply(call: Promise<RunState>): Promise<RunState> {
    const seen = this.stateEvents;
    const state = await call;
    if (this.stateEvents === seen) this.state = state;
    return state;
  }

  private async control(route: 'run.pause' | 'run.resume' | 'run.stop'): Promise<void> {
    try {
      await this.reply(this.bridge()!.call(route));
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.error = messageOf(err);
    this.announce(`Error: ${this.error}`);
  }

  private clear(): void {
    for (const s of this.steps) if (s.screenshotUrl) URL.revokeObjectURL(s.screenshotUrl);
    this.steps = [];
    this.finished = undefined;
  }

  private stepView(step: number): StepView {
    let view = this.steps.find((s) => s.step === step);
    if (!view) {
      this.steps.push({ step, width: 0, height: 0, tokens: '', actions: [], executed: 0, notes: [] });
      view = this.steps[this.steps.length - 1]!;
    }
    return view;
  }

  handle(event: Extract<HostEvent, { type: 'agent' | 'state' }>): void {
    if (event.type === 'state') {
      this.stateEvents++;
      const before = this.state;
      this.state = event.state;
      if (event.state.phase !== before.phase) this.announcePhase(event.state);
      if (event.state.awaitingConfirmation && !before.awaitingConfirmation) {
        this.announce(`Step ${event.state.step} is waiting for your confirmation.`);
      }
      return;
    }
    if (event.runId !== this.runId) {
      // A run started elsewhere (another window, the tray): follow it from here on.
      if (event.event.type !== 'run_started') return;
      this.clear();
      this.runId = event.runId;
    }
    this.apply(event.event);
  }

  private announcePhase(state: RunState): void {
    if (state.phase === 'running') this.announce('Run started.');
    else if (state.phase === 'paused') this.announce('Run paused.');
    else if (state.phase === 'stopping') this.announce('Stopping the run…');
  }

  private apply(event: AgentEvent): void {
    switch (event.type) {
      case 'run_started':
        this.model = event.model;
        if (!this.instruction) this.instruction = event.instruction;
        break;
      case 'step_started':
        this.stepView(event.step);
        break;
      case 'screenshot': {
        const view = this.stepView(event.step);
        if (view.screenshotUrl) URL.revokeObjectURL(view.screenshotUrl);
        view.screenshotUrl = pngUrl(event.png);
        view.width = event.width;
        view.height = event.height;
        break;
      }
      case 'token':
        this.stepView(event.step).tokens += event.delta;
        break;
      case 'planned': {
        const view = this.stepView(event.step);
        view.response = event.response;
        view.thinking = event.thinking;
        view.actions = [...event.actions];
        view.modelMs = event.modelMs;
        this.announce(`Step ${event.step}: ${event.actions.map(describeAction).join('; ') || 'no action'}.`);
        break;
      }
      case 'action_executed':
        this.stepView(event.step).executed = event.index + 1;
        break;
      case 'step_finished':
        this.stepView(event.step).ms = event.ms;
        break;
      case 'retry':
        this.stepView(event.step).notes.push(`the ${event.what === 'model' ? 'model request' : 'screenshot'} failed (attempt ${event.attempt} of ${event.attempts}), trying again in ${(event.delayMs / 1000).toFixed(1)} s: ${event.error}`);
        break;
      case 'correction':
        this.stepView(event.step).notes.push(`reply did not parse, asked again: ${event.error}`);
        break;
      case 'run_finished':
        this.finished = event;
        this.announce(`Run ended (${event.status.replace('_', ' ')}) after ${event.steps} steps: ${event.reason}.`);
        break;
      default:
        break;
    }
  }
}
