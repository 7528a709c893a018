import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DisplayInfo, Screenshot } from '../agent/types.ts';
import { validateCall, type RouteInput, type RouteName, type RouteOutput } from './routes.ts';
import { openScreenSpotResults, screenSpotImage } from './screenspot-results.ts';
import type { ModelManager } from './model-manager.ts';
import type { RunManager } from './run-manager.ts';
import type { SettingsStore } from './settings-store.ts';
import { checkEndpoint } from './endpoint-check.ts';
import { checkFolderSettings } from './folder-settings.ts';
import { KIMI_VL_A3B_WEIGHTS } from './model-sizes.ts';
import { BENCH_DEFAULTS } from '../shared/bench.ts';
import type { AppInfo, BenchReport, GroundResult, HostEvent, ImageData, ModelLoad, PublicSettings, Settings, TrajectorySummary, TrajectoryView } from './types.ts';

/** Reads recorded runs (Kestrel's own layout and OSWorld's). */
export interface TrajectoryLibrary {
  list(dir: string): Promise<TrajectorySummary[]>;
  open(path: string): Promise<TrajectoryView>;
  screenshot(path: string, step: number): Promise<ImageData>;
}

/** What the windows see of in-process model loads. */
export interface ModelLoadEvents {
  subscribe(listener: (event: HostEvent) => void): () => void;
  current(): ModelLoad | undefined;
}

/** Asks the configured model where `query` is on the image. */
export type Grounder = (png: Uint8Array, query: string) => Promise<GroundResult>;

export interface ApiDeps {
  readonly info: () => AppInfo;
  readonly settings: SettingsStore;
  readonly runs: RunManager;
  readonly models: ModelManager;
  /** The models folder in use (Settings' modelsDir, else the host's default). */
  readonly modelsFolder: () => string;
  /** Where runs are recorded (Settings' trajectoriesDir, else the host's default). */
  readonly trajectoriesFolder: () => string;
  readonly displays: () => Promise<readonly DisplayInfo[]>;
  readonly screenshot: (displayId: string) => Promise<Screenshot>;
  readonly ground: Grounder;
  /** Loads of the in-process model (model-loads.ts), whose progress goes to every window. */
  readonly modelLoads?: ModelLoadEvents;
  readonly trajectories: TrajectoryLibrary;
  /** Called after settings change, e.g. so Electron re-registers the stop hotkey. */
  readonly onSettingsChanged?: () => void;
  /** Times an imported model folder on a device (model-bench.ts). */
  readonly bench?: (dir: string, device: Settings['device'], repetitions: number) => Promise<BenchReport>;
}

type Handlers = { readonly [R in RouteName]: (input: RouteInput<R>) => Promise<RouteOutput<R>> | RouteOutput<R> };

/** The API both hosts serve: validated calls in, HostEvents out. */
export interface KestrelApi {
  call(route: unknown, input: unknown): Promise<unknown>;
  subscribe(listener: (event: HostEvent) => void): () => void;
}

export function createApi(deps: ApiDeps): KestrelApi {
  const { settings, runs, trajectories, models } = deps;
  const listModels = async () => ({ models: await models.list(), folder: deps.modelsFolder() });
  let benchmarking = false;
  const view = (): PublicSettings => ({
    ...settings.view(),
    folders: { models: deps.modelsFolder(), trajectories: deps.trajectoriesFolder() },
  });
  const handlers: Handlers = {
    'app.info': () => deps.info(),
    'settings.get': () => view(),
    'settings.update': async (patch) => {
      await checkFolderSettings(patch, models.manifestFile);
      await settings.update(patch);
      deps.onSettingsChanged?.();
      return view();
    },
    'settings.setApiKey': async ({ key }) => {
      await settings.setApiKey(key);
      return view();
    },
    'settings.testEndpoint': (fields) => {
      const current = settings.get();
      const envName = fields.apiKeyEnv ?? current.apiKeyEnv;
      const apiKey = settings.apiKey(envName);
      return checkEndpoint({
        url: fields.endpointUrl ?? current.endpointUrl,
        model: fields.endpointModel ?? current.endpointModel,
        ...(apiKey ? { apiKey } : {}),
        keySource: settings.apiKeySource(envName),
      });
    },
    'displays.list': () => deps.displays(),
    'displays.screenshot': async ({ displayId }) => {
      const shot = await deps.screenshot(displayId);
      return { png: shot.png, width: shot.width, height: shot.height };
    },
    'run.start': (request) => {
      // The other side of models.bench's check: the benchmark's timings would be the run's too.
      if (benchmarking) throw new Error('a model benchmark is running; start the run when its table is shown');
      return runs.start(request);
    },
    'run.pause': () => runs.pause(),
    'run.resume': () => runs.resume(),
    'run.stop': () => runs.stop(),
    'run.confirm': ({ approve }) => runs.confirm(approve),
    'run.state': () => runs.current(),
    'ground.image': ({ png, query }) => deps.ground(png, query),
    'trajectories.list': async ({ dir }) => {
      const own = deps.trajectoriesFolder();
      // The app's own folder exists once the first run is recorded; until then it holds no runs.
      if ((dir === undefined || resolve(dir) === resolve(own)) && !existsSync(own)) return [];
      return trajectories.list(dir ?? own);
    },
    'trajectories.open': ({ path }) => trajectories.open(path),
    'trajectories.screenshot': ({ path, step }) => trajectories.screenshot(path, step),
    'trajectories.reground': async ({ path, step, query }) => {
      const shot = await trajectories.screenshot(path, step);
      return deps.ground(shot.png, query);
    },
    'screenspot.open': ({ results, images }) => openScreenSpotResults(results, images),
    'screenspot.image': ({ results, images, index }) => screenSpotImage(results, images, index),
    'models.list': async () => {
      const job = models.current();
      return { ...(await listModels()), sizes: KIMI_VL_A3B_WEIGHTS, ...(job ? { job } : {}) };
    },
    'models.import': ({ source, name, precision }) => models.startImport(source, name, precision),
    'models.cancelImport': () => models.cancelImport(),
    'models.loading': () => {
      const load = deps.modelLoads?.current();
      return load ? { load } : {};
    },
    'models.delete': async ({ path }) => {
      await models.delete(path);
      return listModels();
    },
    'models.choose': async ({ path }) => {
      const chosen = (await models.list()).find((m) => m.path === path);
      if (!chosen) throw new Error(`${path} is not one of the imported models; list them again`);
      await settings.update({ modelDir: chosen.path, backend: 'in-process' });
      deps.onSettingsChanged?.();
      return view();
    },
    'models.bench': async ({ path, device, repetitions }) => {
      if (!deps.bench) throw new Error('this host cannot benchmark models');
      const chosen = (await models.list()).find((m) => m.path === path);
      if (!chosen) throw new Error(`${path} is not one of the imported models; list them again`);
      // A run's model and the benchmark's would share the CPU (and memory): neither would be right.
      if (runs.current().phase !== 'idle') throw new Error('a run is under way; benchmark when it has ended');
      if (benchmarking) throw new Error('a benchmark is already running; wait for its table');
      benchmarking = true;
      try {
        return await deps.bench(chosen.path, device ?? settings.get().device, repetitions ?? BENCH_DEFAULTS.repetitions);
      } finally {
        benchmarking = false;
      }
    },
  };
  return {
    async call(route, input) {
      const checked = validateCall(route, input);
      const handler = handlers[checked.route] as (input: unknown) => unknown;
      return handler(checked.input);
    },
    subscribe(listener) {
      const offRuns = runs.subscribe(listener);
      const offModels = models.subscribe(listener);
      const offLoads = deps.modelLoads?.subscribe(listener);
      return () => {
        offRuns();
        offModels();
        offLoads?.();
      };
    },
  };
}
