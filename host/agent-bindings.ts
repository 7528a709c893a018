/**
 * Where the hosts meet the agent and the models: the loop adapted to the run manager,
 * grounding with the configured model, trajectory reading, the model importer.
 */
import { join } from 'node:path';
import { targetsOf } from '../shared/actions.ts';
import { ground, OpenAIChatModel, parseKimiResponse, readTrajectory, runAgent, TrajectoryRecorder } from '../agent/index.ts';
import type { VisionLanguageModel } from '../shared/model.ts';
import { DesktopOperator, type DesktopOperatorOptions } from '../agent/desktop.ts';
import type { Operator } from '../agent/types.ts';
import { IMPORT_MARKER, MANIFEST_FILE, type KimiVLLocalModel } from '../native-models/index.ts';
import type { Grounder, TrajectoryLibrary } from './api.ts';
import type { DesktopFactory } from './host.ts';
import type { ModelImporter } from './model-manager.ts';
import { ModelLoads } from './model-loads.ts';
import type { AgentRunner } from './run-manager.ts';
import type { Settings } from './settings.ts';
import type { SettingsStore } from './settings-store.ts';
import { createTrajectoryLibrary, screenshotSize } from './trajectory-library.ts';
import type { HostOptions } from './host.ts';

/**
 * This desktop (on X11 the display `display`), one operator per chosen monitor. The app adds
 * what it knows better than the OS probes: Electron's displays and macOS permissions.
 */
export function desktopFactory(display: string | undefined, extra: Omit<DesktopOperatorOptions, 'env' | 'display'> = {}): DesktopFactory {
  const env: NodeJS.ProcessEnv = display ? { ...process.env, DISPLAY: display } : process.env;
  const operators = new Map<string, Operator>();
  return (displayId) => {
    const key = displayId ?? '';
    let operator = operators.get(key);
    if (!operator) {
      operator = new DesktopOperator({ ...extra, env, ...(displayId !== undefined ? { display: displayId } : {}) });
      operators.set(key, operator);
    }
    return operator;
  };
}

export function modelName(settings: Settings): string {
  return settings.backend === 'endpoint'
    ? `${settings.endpointModel} @ ${settings.endpointUrl}`
    : `in-process ${settings.variant} (${settings.device})${settings.modelDir ? ` from ${settings.modelDir}` : ''}`;
}

/**
 * The in-process model, kept for the next run or probe (loading maps gigabytes). Loaded on first
 * use, so the UI starts without onnxruntime's native library; a GPU device that is missing its
 * libraries fails here with the one-line reason and the fix.
 */
export const localModels = new ModelLoads<KimiVLLocalModel>(async (dir, device, onProgress) => {
  const { KimiVLLocalModel } = await import('../native-models/runtime.ts');
  return KimiVLLocalModel.load(dir, { device, onProgress });
});

/** The model the settings describe: the endpoint client, or the in-process model. */
export async function openModel(store: SettingsStore): Promise<VisionLanguageModel> {
  const settings = store.get();
  if (settings.backend === 'in-process') {
    if (!settings.modelDir) throw new Error('no model folder is chosen; import or choose one in Settings → Models');
    return localModels.open(settings.modelDir, settings.device) as Promise<VisionLanguageModel>;
  }
  const apiKey = store.apiKey();
  return new OpenAIChatModel({ baseUrl: settings.endpointUrl, model: settings.endpointModel, ...(apiKey ? { apiKey } : {}) });
}

/** A folder per run, named so that a listing sorts by start time. */
function runFolder(root: string, runId: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return join(root, `${stamp}_${runId.slice(0, 8)}`);
}

/** runAgent, driven by the run manager: its signal, pause, confirmation and settings. */
export function agentRunner(desktop: DesktopFactory, store: SettingsStore, trajectoriesDir: () => string): AgentRunner {
  return async (ctx) => {
    const s = ctx.settings;
    const operator = desktop(ctx.request.displayId);
    const model = await openModel(store);
    const confirm = ctx.confirm;
    const folder = runFolder(trajectoriesDir(), ctx.runId);
    ctx.recordingIn(folder);
    await runAgent(ctx.request.instruction, {
      model,
      operator,
      signal: ctx.signal,
      pause: ctx.pause,
      actionDelayMs: s.actionDelayMs,
      onEvent: ctx.emit,
      maxSteps: s.maxSteps,
      variant: s.variant,
      temperature: s.temperature,
      screenshotsInContext: s.historyLength + 1,
      runId: ctx.runId,
      recorder: new TrajectoryRecorder(folder),
      ...(confirm ? { confirm: (plan: { step: number }) => confirm(plan.step) } : {}),
    });
  };
}

export function grounder(store: SettingsStore): Grounder {
  return async (png, query) => {
    const model = await openModel(store);
    const result = await ground(model, { mimeType: 'image/png', data: png, ...screenshotSize(png) }, query, {
      temperature: store.get().temperature,
    });
    return {
      ...(result.point ? { point: result.point } : {}),
      raw: result.raw,
      latencyMs: result.ms,
      model: model.name,
      ...(result.error ? { error: result.error } : {}),
    };
  };
}

export const trajectoryLibrary: TrajectoryLibrary = createTrajectoryLibrary({
  read: readTrajectory,
  targetsOfCode(code, size) {
    const parsed = parseKimiResponse(`## Code:\n\`\`\`python\n${code}\n\`\`\``, { imageSize: size });
    if (!parsed.ok) return [];
    return targetsOf(parsed.actions);
  },
});

export const modelImporter: ModelImporter = {
  // From native-models' cheap entry: listing models needs no native library.
  manifestFile: MANIFEST_FILE,
  markerFile: IMPORT_MARKER,
  run: async (options) => {
    const { importKimiVL } = await import('../native-models/runtime.ts');
    return importKimiVL(options);
  },
};

/** What both hosts hand createHost from the agent and the models (the Electron app and the browser host alike). */
export const agentBindings = {
  runner: agentRunner,
  importer: modelImporter,
  ground: grounder,
  modelLoads: localModels,
  trajectories: trajectoryLibrary,
  modelName,
} satisfies Partial<HostOptions>;
