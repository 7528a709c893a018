import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureSystemTools } from './system-tools.ts';

// Without the background-networking switches Chromium keeps trying to reach Google's hosts,
// which this sandboxed network refuses. Playwright gives each launch a fresh temporary profile.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium (or KESTREL_CHROMIUM), headless. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';
  if (!process.env.KESTREL_CHROMIUM) ensureSystemTools(['chromium']);
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/** A page on the app's UI at `url`, once the app has mounted (its announcer region exists). */
export async function openAppPage(browser: Browser, url: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(url);
  await page.getByTestId('announcer').waitFor({ state: 'attached' });
  return page;
}

/** Goes to one of the app's screens through its link in the "Screens" navigation. */
export async function openScreen(page: Page, name: 'Run' | 'Inspector' | 'Trajectories' | 'Settings'): Promise<void> {
  const link = page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name, exact: true });
  await link.click();
  // (A string: this file is typechecked without the DOM library.)
  await page.waitForFunction(`location.hash === '#${name.toLowerCase()}'`);
}
