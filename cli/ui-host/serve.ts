import type { Settings } from '../../main/api/settings.ts';
import { createBrowserHost } from './browser-host.ts';
import { startUiHost } from './server.ts';
import { startPrivateDisplay, type PrivateDisplay } from './virtual-display.ts';

export interface ServeOptions {
  port: number;
  /** Run the agent on a fresh private Xvfb display instead of $DISPLAY. */
  virtual?: boolean;
  /** Run defaults from the command line's model options. */
  defaults?: Partial<Settings>;
}

/** Starts the browser host, prints the one line with its URL, and runs until SIGINT/SIGTERM. */
export async function serveUiUntilStopped(options: ServeOptions): Promise<void> {
  let privateDisplay: PrivateDisplay | undefined;
  if (options.virtual) {
    privateDisplay = await startPrivateDisplay();
    // nut-js opens the X display named in this process's environment when it first loads.
    process.env.DISPLAY = privateDisplay.display;
    delete process.env.WAYLAND_DISPLAY;
  }
  const display = privateDisplay?.display ?? process.env.DISPLAY;
  const core = await createBrowserHost({ display, virtual: Boolean(privateDisplay), defaults: options.defaults ?? {} });
  const host = await startUiHost({ port: options.port, api: core.api });
  process.stdout.write(`Kestrel UI: ${host.url}\n`);
  if (privateDisplay) process.stdout.write(`Kestrel: the agent works on the private display ${privateDisplay.display}\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      core.runs.stop();
      void Promise.race([core.runs.idle(), new Promise((d) => setTimeout(d, 3000))])
        .then(() => host.close())
        .then(() => privateDisplay?.stop())
        .then(done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
