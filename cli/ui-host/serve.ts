import { checkFolderSettings, InvalidInput, type Host, type Settings } from '../../host/index.ts';
import { CliError } from '../errors.ts';
import { MANIFEST_FILE } from '../../native-models/index.ts';
import { createBrowserHost } from './browser-host.ts';
import { startUiHost } from './server.ts';
import { startPrivateDisplay, WINDOW_MANAGER, type PrivateDisplay } from './virtual-display.ts';

export interface ServeOptions {
  port: number;
  /** Run the agent on a fresh private Xvfb display (with a window manager) instead of $DISPLAY. */
  virtual?: boolean;
  /** Shell commands to open on the private display (`--launch`, repeatable); needs `virtual`. */
  launch?: readonly string[];
  /** Settings from the command line's model options: this session only, never saved. */
  sessionSettings?: Partial<Settings>;
  /** The caller has already said there is no display (and about --virtual). */
  displayNoteGiven?: boolean;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Record<(typeof STOP_SIGNALS)[number], number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

/** Which of the command-line options a session setting came from, for the note saying they are not saved. */
function optionNames(session: Partial<Settings>): string[] {
  const names: string[] = [];
  if (session.endpointUrl !== undefined) names.push('--endpoint');
  if (session.endpointModel !== undefined) names.push('--model');
  if (session.modelDir !== undefined) names.push('--model-dir');
  if (session.apiKeyEnv !== undefined) names.push('--api-key-env');
  if (session.temperature !== undefined) names.push('--temperature');
  return names;
}

/**
 * Starts the browser host, prints the one line with its URL, and runs until SIGINT, SIGTERM or
 * SIGHUP. Cheap checks come first: the folders named on the command line, then the port (bound
 * before anything slow starts, so a busy port is one line and exit 1 at once). Whatever has
 * started is stopped on every way out: a signal, an error part-way, or a second signal (then at
 * once, through the private display's exit hook).
 */
export async function serveUiUntilStopped(options: ServeOptions): Promise<void> {
  const session = options.sessionSettings ?? {};
  if (options.virtual && process.platform !== 'linux') {
    throw new CliError('--virtual starts a private X11 display (Xvfb), which needs Linux; on this system the agent works on your own desktop', 2);
  }
  if ((options.launch?.length ?? 0) > 0 && !options.virtual) {
    throw new CliError('--launch opens apps on the private display that --virtual starts; add --virtual', 2);
  }
  try {
    await checkFolderSettings(session, MANIFEST_FILE, { modelDir: '--model-dir' });
  } catch (err) {
    if (err instanceof InvalidInput) throw new CliError(err.message, 2);
    throw err;
  }
  const ui = await startUiHost({ port: options.port });

  let stopRequested = false;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((done) => (wake = done));
  const onSignal = (name: (typeof STOP_SIGNALS)[number]) => {
    // A second signal means now: exit, and the exit hook kills the private display at once.
    if (stopRequested) process.exit(128 + SIGNAL_NUMBERS[name]);
    stopRequested = true;
    wake();
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);

  let privateDisplay: PrivateDisplay | undefined;
  let core: Host | undefined;
  try {
    if (options.virtual) {
      privateDisplay = await startPrivateDisplay({
        launch: options.launch,
        onLaunchExit: (command, code, last) =>
          process.stderr.write(`kestrel: --launch ${JSON.stringify(command)} exited with code ${code}${last ? `: ${last}` : ''}\n`),
      });
      // nut-js opens the X display named in this process's environment when it first loads.
      process.env.DISPLAY = privateDisplay.display;
      delete process.env.WAYLAND_DISPLAY;
    }
    if (stopRequested) return;
    const display = privateDisplay?.display ?? process.env.DISPLAY;
    core = await createBrowserHost({ display, virtual: Boolean(privateDisplay), sessionSettings: session });
    ui.attachApi(core.api);
    process.stdout.write(`Kestrel UI: ${ui.url}\n`);
    if (privateDisplay) {
      process.stdout.write(`Kestrel: the agent works on the private display ${privateDisplay.display} (window manager: ${WINDOW_MANAGER.command})\n`);
    } else if (!display && process.platform === 'linux' && !options.displayNoteGiven) {
      process.stderr.write('kestrel: there is no display (DISPLAY is not set), so the agent has no screen to work on; add --virtual to give it a private one\n');
    }
    const given = optionNames(session);
    if (given.length > 0) {
      process.stderr.write(`kestrel: ${given.join(', ')} apply to this session only; Settings keeps its saved values\n`);
    }
    await stopped;
  } finally {
    // Signals stay handled until everything is down: one during the stop means "now".
    stopRequested = true;
    if (core) {
      core.runs.stop();
      await Promise.race([core.runs.idle(), new Promise((done) => setTimeout(done, 3000).unref())]);
    }
    await ui.close();
    await privateDisplay?.stop();
    for (const name of STOP_SIGNALS) process.off(name, onSignal);
  }
}
