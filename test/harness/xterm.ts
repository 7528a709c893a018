import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './processes.ts';
import type { VirtualDisplay, WindowGeometry } from './xvfb.ts';

/** An xterm whose shell runs `cat` into a file: what it receives is what was typed, byte for byte. */
export interface CatTerminal {
  readonly window: WindowGeometry;
  /** The bytes `cat` has written so far. */
  received(): Buffer;
  /** Waits until the received bytes end with `suffix` (e.g. a newline after Enter). */
  waitForBytes(predicate: (bytes: Buffer) => boolean, what: string, timeoutMs?: number): Promise<Buffer>;
  dispose(): void;
}

export interface CatTerminalOptions {
  readonly title: string;
  /** xterm -geometry, in characters and pixels: "60x10+40+40". */
  readonly geometry?: string;
  readonly background?: string;
}

/**
 * Starts xterm in a UTF-8 locale running `cat` in raw-ish mode (no echo processing of the
 * tty is needed: cooked mode delivers each line on Enter, which is what the tests check).
 */
export async function startCatTerminal(screen: Pick<VirtualDisplay, 'launch' | 'waitForWindow'>, options: CatTerminalOptions): Promise<CatTerminal> {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-xterm-'));
  const file = join(dir, 'received.bin');
  screen.launch(
    'xterm',
    ['-u8', '-T', options.title, '-geometry', options.geometry ?? '60x10+40+40', ...(options.background ? ['-bg', options.background] : []), '-e', 'sh', '-c', `exec cat > '${file}'`],
    { env: { LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' } },
  );
  const window = await screen.waitForWindow(options.title);
  await waitFor('the xterm to open its output file', () => existsSync(file));
  const received = (): Buffer => readFileSync(file);
  return {
    window,
    received,
    waitForBytes: (predicate, what, timeoutMs = 10_000) =>
      waitFor(`${what} (the xterm has received ${JSON.stringify(received().toString('utf8'))})`, () => {
        const bytes = received();
        return predicate(bytes) ? bytes : undefined;
      }, timeoutMs),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
