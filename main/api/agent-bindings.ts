/**
 * Where the hosts meet the agent: the desktop operator, the loop adapted to the run manager,
 * grounding, and trajectory reading. Until the agent's modules are in this build each part
 * fails with a message saying so.
 */
import type { DisplayInfo, Operator } from '../../agent/operator.ts';
import type { Grounder, TrajectoryLibrary } from './api.ts';
import type { ModelImporter } from './model-manager.ts';
import type { AgentRunner } from './run-manager.ts';
import type { Settings } from './settings.ts';
import type { SettingsStore } from './settings-store.ts';

const missing = (what: string) => new Error(`${what} is not in this build yet (issue 3, the agent core)`);

export function desktopOperator(_display: string | undefined): Operator {
  return {
    displays: async (): Promise<readonly DisplayInfo[]> => {
      throw missing('the desktop operator');
    },
    screenshot: async () => {
      throw missing('the desktop operator');
    },
    execute: async () => {
      throw missing('the desktop operator');
    },
  };
}

export function agentRunner(_operator: Operator, _settings: SettingsStore, _trajectoriesDir: () => string): AgentRunner {
  return async () => {
    throw missing('the agent loop');
  };
}

export function grounder(_settings: SettingsStore): Grounder {
  return async () => {
    throw missing('grounding');
  };
}

export const trajectoryLibrary: TrajectoryLibrary = {
  list: async () => {
    throw missing('trajectory reading');
  },
  open: async () => {
    throw missing('trajectory reading');
  },
  screenshot: async () => {
    throw missing('trajectory reading');
  },
};

export function modelName(settings: Settings): string {
  return settings.backend === 'endpoint'
    ? `${settings.endpointModel} @ ${settings.endpointUrl}`
    : `in-process ${settings.variant} (${settings.device})${settings.modelDir ? ` from ${settings.modelDir}` : ''}`;
}

export const modelImporter: ModelImporter = {
  manifestFile: 'kestrel-model.json',
  run: async () => {
    throw missing('the model importer (issue 4, the in-process model)');
  },
};
