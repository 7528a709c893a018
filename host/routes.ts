/**
 * The one route table between the UI and its host. `ApiRoutes` gives each route's input and
 * output types (shared with the renderer); `routeInputs` checks every input at run time before
 * a handler sees it. Electron's IPC and the browser host's WebSocket serve the same table.
 */
import type { DisplayInfo } from '../agent/types.ts';
import { DEVICES, IMPORT_PRECISIONS } from '../native-models/index.ts';
import type { KIMI_VL_A3B_WEIGHTS } from './model-sizes.ts';
import { validateSettingsPatch, type Settings } from './settings.ts';
import type {
  AppInfo,
  BenchReport,
  EndpointCheck,
  ImportJob,
  ModelEntry,
  ModelLoad,
  ScreenSpotResultsView,
  GroundResult,
  ImageData,
  ImportPrecision,
  PublicSettings,
  RunRequest,
  RunState,
  TrajectorySummary,
  TrajectoryView,
} from './types.ts';
import * as v from './validate.ts';

export interface ApiRoutes {
  'app.info': { input: void; output: AppInfo };
  'settings.get': { input: void; output: PublicSettings };
  'settings.update': { input: Partial<Settings>; output: PublicSettings };
  'settings.setApiKey': { input: { key: string }; output: PublicSettings };
  /** One real request to the endpoint; fields not given are the saved settings'. */
  'settings.testEndpoint': { input: Partial<Pick<Settings, 'endpointUrl' | 'endpointModel' | 'apiKeyEnv'>>; output: EndpointCheck };
  'displays.list': { input: void; output: readonly DisplayInfo[] };
  'displays.screenshot': { input: { displayId: string }; output: ImageData };
  'run.start': { input: RunRequest; output: RunState };
  'run.pause': { input: void; output: RunState };
  'run.resume': { input: void; output: RunState };
  'run.stop': { input: void; output: RunState };
  'run.confirm': { input: { approve: boolean }; output: RunState };
  'run.state': { input: void; output: RunState };
  'ground.image': { input: { png: Uint8Array; query: string }; output: GroundResult };
  'trajectories.list': { input: { dir?: string }; output: readonly TrajectorySummary[] };
  'trajectories.open': { input: { path: string }; output: TrajectoryView };
  'trajectories.screenshot': { input: { path: string; step: number }; output: ImageData };
  'trajectories.reground': { input: { path: string; step: number; query: string }; output: GroundResult };
  'screenspot.open': { input: { results: string; images: string }; output: ScreenSpotResultsView };
  'screenspot.image': { input: { results: string; images: string; index: number }; output: ImageData };
  /** `sizes`: what an import of Kimi-VL-A3B writes at each precision (model-sizes.ts). */
  'models.list': { input: void; output: { models: readonly ModelEntry[]; folder: string; sizes: ModelSizes; job?: ImportJob } };
  /** `hashSource`: also hash the checkpoint's shards for the manifest (kestrel model import --hash-source). */
  'models.import': { input: { source: string; name: string; precision?: ImportPrecision; hashSource?: boolean }; output: ImportJob };
  'models.cancelImport': { input: void; output: ImportJob };
  /** The in-process model load in progress, or the last one that ended (a window opened mid-load). */
  'models.loading': { input: void; output: { load?: ModelLoad } };
  'models.delete': { input: { path: string }; output: { models: readonly ModelEntry[]; folder: string } };
  'models.choose': { input: { path: string }; output: PublicSettings };
  /** `kestrel bench` for one imported model, on the device given or Settings' device. */
  'models.bench': { input: { path: string; device?: Settings['device']; repetitions?: number }; output: BenchReport };
}

export type ModelSizes = typeof KIMI_VL_A3B_WEIGHTS;
export type RouteName = keyof ApiRoutes;
export type RouteInput<R extends RouteName> = ApiRoutes[R]['input'];
export type RouteOutput<R extends RouteName> = ApiRoutes[R]['output'];

const path = v.string({ min: 1, max: 4096, what: 'a file or folder path' });
const id = v.string({ min: 1, max: 200 });
const query = v.string({ min: 1, max: 2000, what: 'a description of what to find (1–2000 characters)' });
const step = v.number({ min: 0, max: 100_000, integer: true });

/** The endpoint's three settings, checked (and named) as Settings checks them; nothing else. */
const endpointFields: v.Validator<Partial<Pick<Settings, 'endpointUrl' | 'endpointModel' | 'apiKeyEnv'>>> = (value, path) => {
  const fields = validateSettingsPatch(value, path);
  const other = Object.keys(fields).find((k) => k !== 'endpointUrl' && k !== 'endpointModel' && k !== 'apiKeyEnv');
  if (other) throw new v.InvalidInput(`the connection test takes only endpointUrl, endpointModel and apiKeyEnv, not ${other}`);
  return fields;
};

export const routeInputs: { readonly [R in RouteName]: v.Validator<RouteInput<R>> } = {
  'app.info': v.nothing,
  'settings.get': v.nothing,
  'settings.update': validateSettingsPatch,
  'settings.setApiKey': v.object({ key: v.string({ max: 4096 }) }),
  'settings.testEndpoint': endpointFields,
  'displays.list': v.nothing,
  'displays.screenshot': v.object({ displayId: id }),
  'run.start': v.object({
    instruction: v.string({ min: 1, max: 4000, what: 'an instruction of 1–4000 characters' }),
    displayId: v.optional(id),
    confirmEachAction: v.optional(v.boolean),
    maxSteps: v.optional(v.number({ min: 1, max: 500, integer: true })),
  }),
  'run.pause': v.nothing,
  'run.resume': v.nothing,
  'run.stop': v.nothing,
  'run.confirm': v.object({ approve: v.boolean }),
  'run.state': v.nothing,
  'ground.image': v.object({ png: v.bytes({ max: 40 * 1024 * 1024 }), query }),
  'trajectories.list': v.object({ dir: v.optional(path) }),
  'trajectories.open': v.object({ path }),
  'trajectories.screenshot': v.object({ path, step }),
  'trajectories.reground': v.object({ path, step, query }),
  'screenspot.open': v.object({ results: path, images: path }),
  'screenspot.image': v.object({ results: path, images: path, index: step }),
  'models.list': v.nothing,
  'models.import': v.object({
    source: path,
    name: v.string({ min: 1, max: 100, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, what: 'a folder name (letters, digits, ".", "_", "-")' }),
    precision: v.optional(v.oneOf(IMPORT_PRECISIONS)),
    hashSource: v.optional(v.boolean),
  }),
  'models.cancelImport': v.nothing,
  'models.loading': v.nothing,
  'models.delete': v.object({ path }),
  'models.choose': v.object({ path }),
  'models.bench': v.object({
    path,
    device: v.optional(v.oneOf(DEVICES)),
    repetitions: v.optional(v.number({ min: 1, max: 10, integer: true })),
  }),
};

export const ROUTE_NAMES = Object.keys(routeInputs) as RouteName[];

export function isRouteName(name: unknown): name is RouteName {
  return typeof name === 'string' && Object.hasOwn(routeInputs, name);
}

/** Checks a route name and its input; throws InvalidInput with a one-line message. */
export function validateCall<R extends RouteName>(route: unknown, input: unknown): { route: R; input: RouteInput<R> } {
  if (!isRouteName(route)) {
    throw new v.InvalidInput(`unknown route ${JSON.stringify(String(route).slice(0, 60))}; known routes: ${ROUTE_NAMES.join(', ')}`);
  }
  return { route: route as R, input: (routeInputs[route] as v.Validator<RouteInput<R>>)(input, '') };
}

/** The typed bridge the renderer talks to: window.kestrel in Electron, a WebSocket in a browser. */
export interface KestrelBridge {
  readonly host: 'electron' | 'browser';
  call<R extends RouteName>(route: R, ...input: RouteInput<R> extends void ? [] : [RouteInput<R>]): Promise<RouteOutput<R>>;
  /** Subscribes to host events; returns the unsubscribe function. */
  onEvent(listener: (event: import('./types.ts').HostEvent) => void): () => void;
}
