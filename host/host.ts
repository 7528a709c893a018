import { join } from 'node:path';
import type { Operator } from '../agent/types.ts';

export type DesktopFactory = (displayId?: string) => Operator;
import { createApi, type ApiDeps, type Grounder, type KestrelApi, type ModelLoadEvents, type TrajectoryLibrary } from './api.ts';
import { runModelBench } from './model-bench.ts';
import { ModelManager, type ModelImporter } from './model-manager.ts';
import { RunManager, type AgentRunner } from './run-manager.ts';
import type { SecretBox } from './secrets.ts';
import type { Settings } from './settings.ts';
import { SettingsStore } from './settings-store.ts';
import type { AppInfo } from './types.ts';

/** What a host (Electron or the browser host) supplies; the rest is shared. */
export interface HostOptions {
  readonly host: AppInfo['host'];
  readonly version: string;
  readonly settingsFile: string;
  /** Default home of imported models (<dataDir>/models) and recorded runs (<dataDir>/trajectories). */
  readonly dataDir: string;
  readonly secretBox: SecretBox;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Settings from the command line (`--endpoint`, `--model`, …): laid over the saved settings for
   * this session and never saved (SettingsStore). Checked by the caller.
   */
  readonly sessionSettings?: Partial<Settings>;
  readonly display?: string;
  readonly virtualDisplay?: boolean;
  /**
   * The desktop the agent drives, one operator per display (undefined: the primary), already
   * wrapped by the host where needed (e.g. to hide the overlay during captures).
   */
  readonly desktop: DesktopFactory;
  readonly runner: (desktop: DesktopFactory, settings: SettingsStore, trajectoriesDir: () => string) => AgentRunner;
  readonly importer: ModelImporter;
  readonly ground: (settings: SettingsStore) => Grounder;
  /** Loads of the in-process model that runs and probes use (agent-bindings' localModels). */
  readonly modelLoads?: ModelLoadEvents;
  readonly trajectories: TrajectoryLibrary;
  readonly modelName: (settings: Settings) => string;
  readonly onSettingsChanged?: () => void;
  /** Times an imported model folder (default: model-bench.ts, the in-process model); a seam for tests. */
  readonly bench?: ApiDeps['bench'];
}

export interface Host {
  readonly api: KestrelApi;
  readonly runs: RunManager;
  readonly settings: SettingsStore;
  readonly models: ModelManager;
}

export async function createHost(options: HostOptions): Promise<Host> {
  const settings = await SettingsStore.open(options.settingsFile, options.secretBox, options.env ?? process.env);
  if (options.sessionSettings) settings.setSessionValues(options.sessionSettings);
  const trajectoriesDir = () => settings.get().trajectoriesDir || join(options.dataDir, 'trajectories');
  const modelsDir = () => settings.get().modelsDir || join(options.dataDir, 'models');
  const runs = new RunManager(options.runner(options.desktop, settings, trajectoriesDir), () => settings.get());
  const models = new ModelManager(options.importer, modelsDir, () => settings.get().modelDir, () => settings.get().device);
  const api = createApi({
    info: () => ({
      host: options.host,
      version: options.version,
      display: options.display,
      virtualDisplay: options.virtualDisplay ?? false,
      model: options.modelName(settings.get()),
      problems: settings.problems,
    }),
    settings,
    runs,
    models,
    modelsFolder: modelsDir,
    trajectoriesFolder: trajectoriesDir,
    displays: () => options.desktop().displays(),
    screenshot: async (displayId) => {
      const displays = await options.desktop().displays();
      if (!displays.some((d) => d.id === displayId)) {
        throw new Error(`there is no display "${displayId}"; choose one of ${displays.map((d) => d.id).join(', ')}`);
      }
      return options.desktop(displayId).screenshot();
    },
    ground: options.ground(settings),
    modelLoads: options.modelLoads,
    trajectories: options.trajectories,
    onSettingsChanged: options.onSettingsChanged,
    bench: options.bench ?? ((dir, device, repetitions) => runModelBench([dir], [device], { repetitions })),
  });
  return { api, runs, settings, models };
}
