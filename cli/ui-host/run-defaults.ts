import { resolve } from 'node:path';
import type { Settings } from '../../host/index.ts';
import { ModelEndpointError, normalizeBaseUrl } from '../../agent/index.ts';
import { CliError } from '../errors.ts';
import type { ModelOptionValues } from '../model-options.ts';

/**
 * The shared model flags as Settings, for runs started from the UI in this session only (they
 * are never saved: a server named on the command line must not outlive the command).
 */
export function runDefaults(options: ModelOptionValues): Partial<Settings> {
  const out: { -readonly [K in keyof Settings]?: Settings[K] } = {};
  if (options.endpoint !== undefined && options.modelDir !== undefined) {
    throw new CliError('give either --endpoint or --model-dir, not both', 2);
  }
  if (options.endpoint !== undefined) {
    try {
      normalizeBaseUrl(options.endpoint);
    } catch (err) {
      if (err instanceof ModelEndpointError) throw new CliError(err.message, 2);
      throw err;
    }
    if (options.model === undefined) throw new CliError(`--endpoint needs --model <name>: the model name served at ${options.endpoint}`, 2);
    Object.assign(out, { backend: 'endpoint', endpointUrl: options.endpoint, endpointModel: options.model });
  } else if (options.model !== undefined) {
    out.endpointModel = options.model;
  }
  // Absolute, as Settings keeps folders: relative to where the command was started.
  if (options.modelDir !== undefined) Object.assign(out, { backend: 'in-process', modelDir: resolve(options.modelDir) });
  if (options.apiKeyEnv !== undefined) out.apiKeyEnv = options.apiKeyEnv;
  if (options.temperature !== undefined) out.temperature = options.temperature;
  return out;
}
