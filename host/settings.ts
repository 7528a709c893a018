import { RUN_DEFAULTS } from '../agent/types.ts';
import { DEVICES, type Device } from '../native-models/index.ts';
import * as v from './validate.ts';

/** What the person chooses in Settings. Persisted as JSON; never holds an API key in plain text. */
export interface Settings {
  /** The in-process ONNX model, or an OpenAI-compatible server. */
  readonly backend: 'in-process' | 'endpoint';
  readonly endpointUrl: string;
  readonly endpointModel: string;
  /** Name of the environment variable that holds the endpoint's API key (browser host, CLI). */
  readonly apiKeyEnv: string;
  /** A converted Kimi-VL folder for the in-process backend. */
  readonly modelDir: string;
  /** Where the model manager keeps imported models. */
  readonly modelsDir: string;
  /** Where the in-process model runs; `auto`: CUDA or WebGPU when one starts on a GPU, else the CPU. */
  readonly device: Device;
  readonly variant: 'instruct' | 'thinking';
  readonly maxSteps: number;
  readonly temperature: number;
  /** How many earlier steps (screenshots + replies) the model sees. */
  readonly historyLength: number;
  /** Pause between actions, so a person can follow (and stop) what happens. */
  readonly actionDelayMs: number;
  readonly confirmEachAction: boolean;
  /** Electron accelerator for the emergency stop, e.g. "CommandOrControl+Shift+Escape". */
  readonly stopHotkey: string;
  /** Where runs started from the UI write their trajectories. */
  readonly trajectoriesDir: string;
}

export const DEFAULT_SETTINGS: Settings = {
  backend: 'endpoint',
  endpointUrl: 'http://127.0.0.1:8000/v1',
  endpointModel: 'moonshotai/Kimi-VL-A3B-Instruct',
  apiKeyEnv: 'KESTREL_API_KEY',
  modelDir: '',
  modelsDir: '',
  device: 'auto',
  variant: 'instruct',
  maxSteps: RUN_DEFAULTS.maxSteps,
  temperature: 0,
  historyLength: RUN_DEFAULTS.screenshots - 1,
  actionDelayMs: RUN_DEFAULTS.actionDelayMs,
  confirmEachAction: false,
  // Ctrl+Shift+Esc opens Task Manager on Windows, so the stop shortcut there is Ctrl+Alt+Esc.
  // (This file is also compiled for the browser UI, which has no `process`.)
  stopHotkey: (globalThis as { process?: { platform?: string } }).process?.platform === 'win32' ? 'Control+Alt+Escape' : 'CommandOrControl+Shift+Escape',
  trajectoriesDir: '',
};

const ACCELERATOR = /^(?:(?:CommandOrControl|CmdOrCtrl|Command|Cmd|Control|Ctrl|Alt|Option|AltGr|Shift|Super|Meta)\+)+(?:[A-Z0-9]|F\d{1,2}|Escape|Esc|Space|Tab|Backspace|Delete|Insert|Home|End|PageUp|PageDown|Up|Down|Left|Right|Enter|Return|Plus|Minus)$/;

/** What the Settings screen calls each field; messages about a field use the same words. */
export const SETTING_LABELS: { readonly [K in keyof Settings]: string } = {
  backend: 'Backend',
  endpointUrl: 'Endpoint URL',
  endpointModel: 'Model name',
  apiKeyEnv: 'API key environment variable',
  modelDir: 'Model folder',
  modelsDir: 'Models folder',
  device: 'Device',
  variant: 'Variant',
  maxSteps: 'Max steps',
  temperature: 'Temperature',
  historyLength: 'History length',
  actionDelayMs: 'Pause between actions',
  confirmEachAction: 'Confirm each action',
  stopHotkey: 'Emergency-stop shortcut',
  trajectoriesDir: 'Trajectories folder',
};

/** The settings that name folders; folder-settings.ts checks them against the disk as well. */
export const FOLDER_SETTINGS = ['modelDir', 'modelsDir', 'trajectoriesDir'] as const;
export type FolderSetting = (typeof FOLDER_SETTINGS)[number];

/** POSIX (/home/me), Windows drive (C:\Users) or UNC (\\server\share) absolute paths. */
const ABSOLUTE_PATH = /^(?:\/|[A-Za-z]:[\\/]|\\\\)/;

/** Empty (the default), or an absolute path: a relative one would depend on where the host was started. */
const folder = (empty: string): v.Validator<string> => {
  const what = `an absolute folder path (such as /home/me/kestrel), or empty for ${empty}`;
  const text = v.string({ max: 4096, what });
  return (value, path) => {
    const checked = text(value, path);
    return checked === '' || ABSOLUTE_PATH.test(checked) ? checked : v.invalid(path, what, checked);
  };
};

export const settingsShape = {
  backend: v.oneOf(['in-process', 'endpoint'] as const),
  endpointUrl: v.string({ max: 2000, pattern: /^https?:\/\/[^\s]+$/, what: 'an http:// or https:// URL' }),
  endpointModel: v.string({ max: 300 }),
  apiKeyEnv: v.string({ max: 100, pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, what: 'an environment variable name (letters, digits, _)' }),
  modelDir: folder('none'),
  modelsDir: folder('the default'),
  device: v.oneOf(DEVICES),
  variant: v.oneOf(['instruct', 'thinking'] as const),
  maxSteps: v.number({ min: 1, max: 500, integer: true }),
  temperature: v.number({ min: 0, max: 2 }),
  historyLength: v.number({ min: 0, max: 20, integer: true }),
  actionDelayMs: v.number({ min: 0, max: 10_000, integer: true }),
  confirmEachAction: v.boolean,
  stopHotkey: v.string({ max: 100, pattern: ACCELERATOR, what: 'a key combination such as "CommandOrControl+Shift+Escape"' }),
  trajectoriesDir: folder('the default'),
} satisfies { readonly [K in keyof Settings]: v.Validator<Settings[K]> };

/**
 * A partial update: every field optional, each checked like the full settings. Messages name
 * the field as the Settings screen does ("Max steps must be …"), whatever route carried it.
 */
export const validateSettingsPatch: v.Validator<Partial<Settings>> = (value, path) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    return v.invalid(path, 'an object of settings', value);
  }
  const out: Record<string, unknown> = {};
  for (const [key, given] of Object.entries(value as Record<string, unknown>)) {
    if (!Object.hasOwn(settingsShape, key)) {
      throw new v.InvalidInput(`there is no setting "${key}"; the settings are ${Object.keys(settingsShape).join(', ')}`);
    }
    if (given === undefined) continue;
    const name = key as keyof Settings;
    out[key] = (settingsShape[name] as v.Validator<unknown>)(given, SETTING_LABELS[name]);
  }
  return out as Partial<Settings>;
};

/** Reads stored settings leniently: unknown or invalid fields fall back to the defaults. */
export function settingsFromStored(stored: unknown): { settings: Settings; problems: string[] } {
  const problems: string[] = [];
  const record = typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, check] of Object.entries(settingsShape)) {
    if (record[key] === undefined) continue;
    try {
      out[key] = (check as v.Validator<unknown>)(record[key], `The saved ${SETTING_LABELS[key as keyof Settings]} (${key} in the settings file)`);
    } catch (err) {
      problems.push(`${(err as Error).message}; the default is used until you save another`);
    }
  }
  return { settings: out as unknown as Settings, problems };
}
