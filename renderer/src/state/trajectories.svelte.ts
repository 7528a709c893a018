import type { KestrelBridge, GroundResult, TrajectorySummary, TrajectoryView } from '../../../host/ui-types.ts';
import { pngUrl } from '../lib/images.ts';
import { messageOf } from '../../../shared/one-line.ts';

/** The trajectory viewer: a folder of runs, one opened run, one step at a time. */
export class TrajectoriesModel {
  /** The folder typed in (the app's own trajectories folder until the person types another). */
  dir = $state('');
  /** Where runs started from this app are recorded. */
  ownFolder = $state('');
  /** The folder the list shows, once listed. */
  listed: string | undefined = $state();
  runs: TrajectorySummary[] = $state.raw([]);
  view: TrajectoryView | undefined = $state.raw();
  index = $state(0);
  screenshot: { url: string; width: number; height: number } | undefined = $state.raw();
  query = $state('');
  reground: GroundResult | undefined = $state.raw();
  busy = $state(false);
  error = $state('');

  constructor(
    private readonly bridge: () => KestrelBridge | undefined,
    private readonly announce: (message: string) => void,
  ) {}

  get step() {
    return this.view?.steps[this.index];
  }

  /** Follows the app's own folder while the person has not typed another. */
  setOwnFolder(folder: string): void {
    if (!this.dir || this.dir === this.ownFolder) this.dir = folder;
    this.ownFolder = folder;
  }

  /** Lists the folder in the box (the app's own by default); quietly, as a screen opens. */
  async list(options: { quiet?: boolean } = {}): Promise<void> {
    const dir = this.dir.trim();
    if (!dir) return;
    this.error = '';
    try {
      this.runs = [...(await this.bridge()!.call('trajectories.list', dir === this.ownFolder ? {} : { dir }))];
      this.listed = dir;
      if (!options.quiet) this.announce(`${this.runs.length} recorded ${this.runs.length === 1 ? 'run' : 'runs'} found.`);
    } catch (err) {
      this.fail(err);
    }
  }

  async open(path: string): Promise<void> {
    this.error = '';
    try {
      this.view = await this.bridge()!.call('trajectories.open', { path });
      this.announce(`Opened ${this.view.summary.name}: ${this.view.steps.length} steps.`);
      await this.go(0);
    } catch (err) {
      this.fail(err);
    }
  }

  async go(index: number): Promise<void> {
    const view = this.view;
    if (!view || index < 0 || index >= view.steps.length) return;
    this.index = index;
    this.reground = undefined;
    if (this.screenshot) URL.revokeObjectURL(this.screenshot.url);
    this.screenshot = undefined;
    const step = view.steps[index]!;
    if (!step.hasScreenshot) return;
    try {
      const shot = await this.bridge()!.call('trajectories.screenshot', { path: view.summary.path, step: step.index });
      if (this.view === view && this.index === index) this.screenshot = { url: pngUrl(shot.png), width: shot.width, height: shot.height };
    } catch (err) {
      this.fail(err);
    }
  }

  async regroundStep(): Promise<void> {
    const view = this.view;
    const step = this.step;
    if (!view || !step) return;
    const query = this.query.trim() || view.summary.instruction || '';
    if (!query) return this.fail('type what to find on this step’s screenshot');
    this.busy = true;
    try {
      this.reground = await this.bridge()!.call('trajectories.reground', { path: view.summary.path, step: step.index, query });
      this.announce(this.reground.point ? `Re-grounded in ${Math.round(this.reground.latencyMs)} ms.` : 'The reply held no point.');
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
    }
  }

  private fail(err: unknown): void {
    this.error = messageOf(err);
    this.announce(`Error: ${this.error}`);
  }
}
