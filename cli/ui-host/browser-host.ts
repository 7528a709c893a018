import { homedir } from 'node:os';
import { join } from 'node:path';
import { agentBindings, createHost, desktopFactory, NO_SECRET_BOX, type DesktopFactory, type Host, type Settings } from '../../host/index.ts';
import { VERSION } from '../version.ts';

/** Where settings live: $KESTREL_CONFIG_DIR, else the XDG config folder. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KESTREL_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'kestrel');
}

/** Where imported models and recorded runs go by default: $KESTREL_DATA_DIR, else XDG data. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KESTREL_DATA_DIR || join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'kestrel');
}

/** Said wherever the agent would need a screen and there is none: the way out is --virtual. */
export const NO_DISPLAY =
  'there is no display (DISPLAY is not set), so the agent has no screen to work on; restart with `kestrel ui --virtual` to give it a private one, or start Kestrel inside an X11 session';

/** The desktop when there is no display: every use says so, and how to get one. */
const noDesktop: DesktopFactory = () => {
  const refuse = () => Promise.reject(new Error(NO_DISPLAY));
  return { displays: refuse, screenshot: refuse, execute: refuse };
};

/**
 * The API behind `kestrel ui`: the same host as the desktop app, without a keychain (keys come
 * from the environment variable named in Settings) and driving the given X display.
 */
export function createBrowserHost(options: { display?: string; virtual: boolean; sessionSettings: Partial<Settings> }): Promise<Host> {
  const env = { ...process.env, ...(options.display ? { DISPLAY: options.display } : {}) };
  return createHost({
    host: 'browser',
    version: VERSION,
    settingsFile: join(configDir(), 'settings.json'),
    dataDir: dataDir(),
    secretBox: NO_SECRET_BOX,
    env,
    sessionSettings: options.sessionSettings,
    display: options.display,
    virtualDisplay: options.virtual,
    // Only X11 has a DISPLAY to lack; Windows and macOS always have their desktop.
    desktop: options.display || process.platform !== 'linux' ? desktopFactory(options.display) : noDesktop,
    ...agentBindings,
  });
}
