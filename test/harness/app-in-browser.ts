import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createHost, type Host, type HostOptions } from '../../main/api/host.ts';
import { startUiHost, type UiHost } from '../../cli/ui-host/server.ts';
import { launchChromium, openAppPage } from './chromium.ts';
import { testHostOptions } from './test-host.ts';

/** The real host core served over the UI's socket, and the app open on it in Chromium. */
export interface AppInBrowser {
  /** The data folder (settings, models, trajectories), removed by `close`. */
  readonly dir: string;
  readonly core: Host;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Starts a browser host on a fresh data folder, `prepare` having written into it first (a
 * checkpoint, a model, a settings file), and opens the app. `overrides` are the host's seams
 * a test uses (testHostOptions refuses the others).
 */
export async function openAppInBrowser(prefix: string, prepare: (dir: string) => Promise<void> | void, overrides: (dir: string) => Partial<HostOptions> = () => ({})): Promise<AppInBrowser> {
  const dir = await mkdtemp(join(tmpdir(), `kestrel-${prefix}-`));
  let host: UiHost | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await host?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await prepare(dir);
    const core = await createHost(testHostOptions(dir, overrides(dir)));
    host = await startUiHost({ api: core.api });
    browser = await launchChromium();
    return { dir, core, page: await openAppPage(browser, host.url), close };
  } catch (err) {
    await close();
    throw err;
  }
}
