import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { serveUiUntilStopped, type ServeOptions } from './ui-host/serve.ts';

const ROOT = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);

/** The Electron executable, downloading it once if npm skipped electron's install script. */
function findElectron(): { path: string } | { missing: string } {
  try {
    return { path: require('electron') as string };
  } catch {
    // npm ≥ 11 blocks dependency install scripts unless allowed; fetch the binary on first start.
    const installer = resolve(dirname(require.resolve('electron/package.json')), 'install.js');
    const fetched = spawnSync(process.execPath, [installer], {
      stdio: 'ignore',
      timeout: 180_000,
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '' },
    });
    if (fetched.status !== 0) return { missing: 'the Electron binary is not installed and could not be downloaded' };
    try {
      return { path: require('electron') as string };
    } catch {
      return { missing: 'the Electron binary is not installed' };
    }
  }
}

function hasDisplay(): boolean {
  return process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/** Resolves with Electron's exit code, or with a reason when it died during start-up. */
function runElectron(executable: string): Promise<{ code: number } | { failed: string }> {
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(executable, [ROOT], { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    child.on('error', (err) => done({ failed: `Electron could not be started (${err.message})` }));
    child.on('exit', (code, signal) => {
      const early = Date.now() - started < 5000;
      if (early && code !== 0) {
        const last = stderr.trim().split('\n').pop() ?? '';
        done({ failed: `Electron exited during start-up${last ? ` (${last.slice(0, 160)})` : ''}` });
      } else {
        done({ code: code ?? (signal ? 1 : 0) });
      }
    });
  });
}

export async function launchApp(options: ServeOptions): Promise<number> {
  let reason: string;
  const electron = hasDisplay() ? findElectron() : undefined;
  if (!electron) {
    reason = options.virtual ? 'there is no display (DISPLAY is not set)' : 'there is no display (DISPLAY is not set; add --virtual to give the agent a private one)';
  } else if ('missing' in electron) {
    reason = electron.missing;
  } else {
    const outcome = await runElectron(electron.path);
    if ('code' in outcome) return outcome.code;
    reason = outcome.failed;
  }
  process.stdout.write(`Kestrel: ${reason}, so the UI is served for a browser instead.\n`);
  await serveUiUntilStopped({ ...options, displayNoteGiven: !electron });
  return 0;
}
