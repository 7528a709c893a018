import type { DisplayInfo, KestrelBridge, ModelSizes, AppInfo, EndpointCheck, ImportJob, ImportPrecision, ModelEntry, ModelLoad, PublicSettings, Settings } from '../../../host/ui-types.ts';
import { connectBridge } from '../bridge/index.ts';
import { InspectorModel } from './inspector.svelte.ts';
import { ScreenSpotResultsModel } from './screenspot-results.svelte.ts';
import { RunModel } from './run.svelte.ts';
import { TrajectoriesModel } from './trajectories.svelte.ts';
import { messageOf } from '../../../shared/one-line.ts';

export const SCREENS = ['Run', 'Inspector', 'Trajectories', 'Settings'] as const;
export type Screen = (typeof SCREENS)[number];

/** Each screen has an address (#run, #inspector, …): links, back and forward, a reload keep it. */
export const screenHash = (screen: Screen): string => `#${screen.toLowerCase()}`;
export function screenFromHash(hash: string): Screen {
  return SCREENS.find((s) => screenHash(s) === hash.toLowerCase()) ?? 'Run';
}

/** The whole UI's state: the bridge, what the host told us, and one model per screen. */
export class AppModel {
  bridge: KestrelBridge | undefined = $state.raw();
  connectError = $state('');
  info: AppInfo | undefined = $state.raw();
  settings: PublicSettings | undefined = $state.raw();
  displays: readonly DisplayInfo[] = $state.raw([]);
  /** Whether the host has answered about the displays yet (until then there are none to show). */
  displaysListed = $state(false);
  displayError = $state('');
  screen: Screen = $state(screenFromHash(location.hash));
  models: readonly ModelEntry[] = $state.raw([]);
  modelsFolder = $state('');
  /** What an import of Kimi-VL-A3B writes at each precision, as the host computes it. */
  modelSizes: ModelSizes | undefined = $state.raw();
  importJob: ImportJob | undefined = $state.raw();
  /** The in-process model being loaded for a run or a probe (the Run screen and the Inspector show it). */
  modelLoad: ModelLoad | undefined = $state.raw();
  /** The latest status message, read out by the aria-live region. */
  announcement = $state('');

  readonly run = new RunModel(() => this.bridge, (m) => this.announce(m));
  readonly inspector = new InspectorModel(() => this.bridge, (m) => this.announce(m));
  readonly screenspot = new ScreenSpotResultsModel(() => this.bridge, (m) => this.announce(m));
  readonly trajectories = new TrajectoriesModel(() => this.bridge, (m) => this.announce(m));

  /** Follows the address after a link, back or forward. */
  followHash(): void {
    this.screen = screenFromHash(location.hash);
  }

  /** Shows a screen, as its link does. */
  go(screen: Screen): void {
    this.screen = screen;
    if (location.hash !== screenHash(screen)) location.hash = screenHash(screen);
  }

  /** Opens a recorded run in the Trajectories screen (the Run screen's link to the run it recorded). */
  async openTrajectory(path: string): Promise<void> {
    this.go('Trajectories');
    await this.trajectories.open(path);
  }

  announce(message: string): void {
    // Re-setting the same text would not be announced again; clear first.
    this.announcement = '';
    queueMicrotask(() => (this.announcement = message));
  }

  async connect(): Promise<void> {
    try {
      const bridge = await connectBridge();
      bridge.onEvent((event) => {
        if (event.type === 'model_import') this.onImport(event.job);
        else if (event.type === 'model_load') this.onModelLoad(event.load);
        else this.run.handle(event);
      });
      this.bridge = bridge;
      const [info, settings, state, loading] = await Promise.all([
        bridge.call('app.info'),
        bridge.call('settings.get'),
        bridge.call('run.state'),
        bridge.call('models.loading'),
      ]);
      // A load that started before this window connected (events from now on update it).
      this.modelLoad ??= loading.load;
      this.info = info;
      this.applySettings(settings);
      this.run.state = state;
      this.run.model = info.model;
      await Promise.all([this.refreshDisplays(), this.refreshModels().catch(() => undefined)]);
    } catch (err) {
      this.connectError = messageOf(err);
      this.announce(`Error: ${this.connectError}`);
    }
  }

  async refreshDisplays(): Promise<void> {
    try {
      this.displays = await this.bridge!.call('displays.list');
      this.displayError = '';
      const primary = this.displays.find((d) => d.primary) ?? this.displays[0];
      if (!this.run.displayId && primary) this.run.displayId = primary.id;
    } catch (err) {
      this.displayError = messageOf(err);
    } finally {
      this.displaysListed = true;
    }
  }

  applySettings(settings: PublicSettings): void {
    this.settings = settings;
    this.run.confirmEach = settings.settings.confirmEachAction;
    this.trajectories.setOwnFolder(settings.folders.trajectories);
  }

  async saveSettings(patch: Partial<Settings>): Promise<boolean> {
    try {
      this.applySettings(await this.bridge!.call('settings.update', patch));
      this.info = await this.bridge!.call('app.info');
      this.run.model = this.info.model;
      this.announce('Settings saved.');
      return true;
    } catch (err) {
      this.announce(`Error: ${messageOf(err)}`);
      throw err;
    }
  }

  async refreshModels(): Promise<void> {
    const { models, folder, sizes, job } = await this.bridge!.call('models.list');
    this.models = models;
    this.modelsFolder = folder;
    this.modelSizes = sizes;
    if (job) this.importJob = job;
  }

  async importModel(source: string, name: string, precision: ImportPrecision = 'auto'): Promise<void> {
    this.importJob = await this.bridge!.call('models.import', { source, name, precision });
    this.announce(`Importing ${source} as ${name}…`);
  }

  async cancelImport(): Promise<void> {
    this.importJob = await this.bridge!.call('models.cancelImport');
    this.announce('Cancelling the import…');
  }

  async chooseModel(path: string): Promise<void> {
    this.applySettings(await this.bridge!.call('models.choose', { path }));
    this.info = await this.bridge!.call('app.info');
    this.run.model = this.info.model;
    await this.refreshModels();
    this.announce('Model chosen; runs now use the in-process backend.');
  }

  async deleteModel(path: string): Promise<void> {
    const { models } = await this.bridge!.call('models.delete', { path });
    this.models = models;
    this.announce('Model deleted.');
  }

  private onImport(job: ImportJob): void {
    const before = this.importJob?.phase;
    this.importJob = job;
    if (job.phase === before) return;
    if (job.phase === 'done') {
      this.announce('Model import finished.');
      void this.refreshModels();
    } else if (job.phase === 'failed') {
      this.announce(`Model import failed: ${job.error}`);
    } else if (job.phase === 'cancelled') {
      this.announce('Model import cancelled; what it had written is removed.');
    }
  }

  private onModelLoad(load: ModelLoad): void {
    const before = this.modelLoad;
    this.modelLoad = load;
    const same = before?.dir === load.dir && before.device === load.device;
    const wasLoading = same && before.phase !== 'ready' && before.phase !== 'failed';
    if (!wasLoading && load.phase !== 'ready' && load.phase !== 'failed') this.announce('Loading the model…');
    else if (load.phase === 'ready' && !(same && before.phase === 'ready')) this.announce(`Model loaded (${load.detail}).`);
    else if (load.phase === 'failed') this.announce(`The model failed to load: ${load.error}`);
  }

  /** Settings' "Test connection": one real request to the endpoint the form describes. */
  async testEndpoint(fields: Pick<Settings, 'endpointUrl' | 'endpointModel' | 'apiKeyEnv'>): Promise<EndpointCheck> {
    const result = await this.bridge!.call('settings.testEndpoint', fields);
    this.announce(result.ok ? result.message : `Connection test failed: ${result.message}`);
    return result;
  }

  async setApiKey(key: string): Promise<void> {
    this.settings = await this.bridge!.call('settings.setApiKey', { key });
    this.announce(key ? 'API key stored, encrypted.' : 'API key removed.');
  }
}
