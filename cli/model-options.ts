import { InvalidArgumentError, Option, type Command } from 'commander';
import { envVar, ModelEndpointError, OpenAIChatModel, type VisionLanguageModel } from '../agent/index.ts';
import { CliError } from './errors.ts';
import { DEVICES, type Device } from '../native-models/index.ts';
import { positiveInt } from './options.ts';

/** What the shared model flags parse to; every command that talks to a model takes these. */
export interface ModelOptionValues {
  readonly endpoint?: string;
  readonly model?: string;
  readonly apiKeyEnv?: string;
  readonly modelDir?: string;
  /** Execution provider for --model-dir. */
  readonly device?: Device;
  /** Seconds per model request. */
  readonly timeout?: number;
  readonly maxTokens?: number;
  readonly temperature?: number;
}

function temperature(value: string): number {
  const t = Number(value);
  if (value.trim() === '' || !Number.isFinite(t) || t < 0 || t > 2) {
    throw new InvalidArgumentError(`temperature must be a number from 0 to 2, got '${value}'.`);
  }
  return t;
}

function envName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new InvalidArgumentError(`--api-key-env takes the NAME of an environment variable (like KIMI_API_KEY), not the key itself.`);
  }
  return value;
}

/** Where an in-process model runs; shared by every command that loads one. */
export function deviceOption(description = 'where the in-process model runs: auto tries CUDA, then WebGPU, then the CPU'): Option {
  return new Option('--device <device>', description).choices(DEVICES).default('auto');
}

/** Adds the model flags to a command: an OpenAI-compatible endpoint, or (later) a local model directory. */
export function addModelOptions(command: Command): Command {
  return command
    .option('--endpoint <url>', 'OpenAI-compatible base URL serving Kimi-VL, e.g. http://localhost:8000/v1')
    .option('--model <name>', 'model name on that endpoint, e.g. moonshotai/Kimi-VL-A3B-Instruct')
    .option('--api-key-env <VAR>', 'environment variable holding the API key (the key itself never goes on the command line)', envName)
    .option('--model-dir <dir>', 'run an imported model in-process instead of calling an endpoint')
    .addOption(deviceOption())
    .option('--timeout <seconds>', 'limit per model request', positiveInt('--timeout'), 120)
    .option('--max-tokens <n>', 'most tokens the model may generate per reply', positiveInt('--max-tokens'))
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', temperature);
}

/**
 * The in-process model behind --model-dir (native-models implements the VisionLanguageModel
 * interface structurally). Loaded only when asked for: onnxruntime is heavy.
 */
async function openLocalModel(dir: string, device: Device): Promise<VisionLanguageModel> {
  const { loadLocalModel } = await import('./model/load-model.ts');
  return loadLocalModel(dir, device);
}

/** Turns the parsed flags into a model, or a one-line CliError saying which flag is missing or wrong. */
export async function resolveModel(options: ModelOptionValues, env: NodeJS.ProcessEnv = process.env): Promise<VisionLanguageModel> {
  return modelOpener(options, env)();
}

/**
 * Checks the model flags at once (a one-line CliError, exit 2, saying which is missing or wrong)
 * and returns what opens the model, so that a command can run its other cheap checks (its
 * files, the display, the port) before an in-process model spends minutes loading.
 */
export function modelOpener(options: ModelOptionValues, env: NodeJS.ProcessEnv = process.env): () => Promise<VisionLanguageModel> {
  if (options.modelDir !== undefined) {
    if (options.endpoint !== undefined) throw new CliError('give either --endpoint or --model-dir, not both', 2);
    const dir = options.modelDir;
    return () => openLocalModel(dir, options.device ?? 'auto');
  }
  if (options.endpoint === undefined) {
    throw new CliError('no model: give --endpoint <url> and --model <name> (an OpenAI-compatible server such as vLLM), or --model-dir <dir>', 2);
  }
  if (options.model === undefined) {
    throw new CliError(`--endpoint needs --model <name>: the model name served at ${options.endpoint} (GET ${options.endpoint.replace(/\/$/, '')}/models lists them)`, 2);
  }
  let apiKey: string | undefined;
  if (options.apiKeyEnv !== undefined) {
    apiKey = envVar(env, options.apiKeyEnv);
    if (!apiKey) throw new CliError(`--api-key-env ${options.apiKeyEnv}: that environment variable is not set or empty`, 2);
  }
  let model: OpenAIChatModel;
  try {
    model = new OpenAIChatModel({
      baseUrl: options.endpoint,
      model: options.model,
      ...(apiKey ? { apiKey } : {}),
      timeoutMs: (options.timeout ?? 120) * 1000,
    });
  } catch (err) {
    if (err instanceof ModelEndpointError) throw new CliError(err.message, 2);
    throw err;
  }
  return async () => model;
}

/** Generation settings from the flags, for GenerateRequest. */
export function generationSettings(options: ModelOptionValues): { maxTokens?: number; temperature?: number } {
  return {
    ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
  };
}
