import { homedir } from 'node:os';
import { join } from 'node:path';
import { agentRunner, desktopFactory, grounder, localModels, modelImporter, modelName, trajectoryLibrary } from '../../main/api/agent-bindings.ts';
import { createHost, type Host } from '../../main/api/host.ts';
import { NO_SECRET_BOX } from '../../main/api/secrets.ts';
import type { Settings } from '../../main/api/settings.ts';
import { VERSION } from '../main.ts';

/** Where settings live: $KESTREL_CONFIG_DIR, else the XDG config folder. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KESTREL_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'kestrel');
}

/** Where imported models and recorded runs go by default: $KESTREL_DATA_DIR, else XDG data. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KESTREL_DATA_DIR || join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'kestrel');
}

/**
 * The API behind `kestrel ui`: the same host as the desktop app, without a keychain (keys come
 * from the environment variable named in Settings) and driving the given X display.
 */
export function createBrowserHost(options: { display?: string; virtual: boolean; defaults: Partial<Settings> }): Promise<Host> {
  const env = { ...process.env, ...(options.display ? { DISPLAY: options.display } : {}) };
  return createHost({
    host: 'browser',
    version: VERSION,
    settingsFile: join(configDir(), 'settings.json'),
    dataDir: dataDir(),
    secretBox: NO_SECRET_BOX,
    env,
    defaults: options.defaults,
    display: options.display,
    virtualDisplay: options.virtual,
    desktop: desktopFactory(options.display),
    runner: agentRunner,
    importer: modelImporter,
    ground: grounder,
    modelLoads: localModels,
    trajectories: trajectoryLibrary,
    modelName,
  });
}
