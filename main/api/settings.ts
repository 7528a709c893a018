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
  readonly device: 'cpu' | 'cuda' | 'webgpu';
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
  device: 'cpu',
  variant: 'instruct',
  maxSteps: 15,
  temperature: 0,
  historyLength: 3,
  actionDelayMs: 300,
  confirmEachAction: false,
  // Ctrl+Shift+Esc opens Task Manager on Windows, so the stop shortcut there is Ctrl+Alt+Esc.
  // (This file is also compiled for the browser UI, which has no `process`.)
  stopHotkey: (globalThis as { process?: { platform?: string } }).process?.platform === 'win32' ? 'Control+Alt+Escape' : 'CommandOrControl+Shift+Escape',
  trajectoriesDir: '',
};

const ACCELERATOR = /^(?:(?:CommandOrControl|CmdOrCtrl|Command|Cmd|Control|Ctrl|Alt|Option|AltGr|Shift|Super|Meta)\+)+(?:[A-Z0-9]|F\d{1,2}|Escape|Esc|Space|Tab|Backspace|Delete|Insert|Home|End|PageUp|PageDown|Up|Down|Left|Right|Enter|Return|Plus|Minus)$/;

export const settingsShape = {
  backend: v.oneOf(['in-process', 'endpoint'] as const),
  endpointUrl: v.string({ max: 2000, pattern: /^https?:\/\/[^\s]+$/, what: 'an http:// or https:// URL' }),
  endpointModel: v.string({ max: 300 }),
  apiKeyEnv: v.string({ max: 100, pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, what: 'an environment variable name (letters, digits, _)' }),
  modelDir: v.string({ max: 4096 }),
  modelsDir: v.string({ max: 4096 }),
  device: v.oneOf(['cpu', 'cuda', 'webgpu'] as const),
  variant: v.oneOf(['instruct', 'thinking'] as const),
  maxSteps: v.number({ min: 1, max: 500, integer: true }),
  temperature: v.number({ min: 0, max: 2 }),
  historyLength: v.number({ min: 0, max: 20, integer: true }),
  actionDelayMs: v.number({ min: 0, max: 10_000, integer: true }),
  confirmEachAction: v.boolean,
  stopHotkey: v.string({ max: 100, pattern: ACCELERATOR, what: 'a key combination such as "CommandOrControl+Shift+Escape"' }),
  trajectoriesDir: v.string({ max: 4096 }),
};

/** A partial update: every field optional, each checked like the full settings. */
export const validateSettingsPatch: v.Validator<Partial<Settings>> = v.object(
  Object.fromEntries(
    Object.entries(settingsShape).map(([k, check]) => [k, v.optional(check as v.Validator<unknown>)]),
  ) as {
    [K in keyof typeof settingsShape]: v.Validator<ReturnType<(typeof settingsShape)[K]> | undefined>;
  },
) as v.Validator<Partial<Settings>>;

/** Reads stored settings leniently: unknown or invalid fields fall back to the defaults. */
export function settingsFromStored(stored: unknown): { settings: Settings; problems: string[] } {
  const problems: string[] = [];
  const record = typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>) : {};
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [key, check] of Object.entries(settingsShape)) {
    if (record[key] === undefined) continue;
    try {
      out[key] = check(record[key], `settings.${key}`);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return { settings: out as unknown as Settings, problems };
}
