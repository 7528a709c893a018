import { runTool, type ToolOptions } from './tools.ts';

type Selection = 'clipboard' | 'primary';

/** What a selection held, to put it back afterwards. */
interface Saved {
  readonly selection: Selection;
  readonly target?: string;
  readonly data?: Buffer;
}

const TEXT_TARGETS = ['UTF8_STRING', 'text/plain;charset=utf-8', 'STRING', 'TEXT'];

/** Reads whatever the selection's owner offers, preferring text, else its first real target. */
async function save(selection: Selection, options: ToolOptions): Promise<Saved> {
  let targets: string[];
  try {
    const { stdout } = await runTool('xclip', ['-selection', selection, '-o', '-t', 'TARGETS'], { ...options, timeoutMs: 2000 });
    targets = stdout.toString().split('\n').map((t) => t.trim()).filter(Boolean);
  } catch {
    return { selection }; // nobody owns it
  }
  const target = TEXT_TARGETS.find((t) => targets.includes(t)) ?? targets.find((t) => !['TARGETS', 'TIMESTAMP', 'MULTIPLE', 'SAVE_TARGETS'].includes(t));
  if (!target) return { selection };
  try {
    const { stdout } = await runTool('xclip', ['-selection', selection, '-o', '-t', target], { ...options, timeoutMs: 2000 });
    return { selection, target, data: stdout };
  } catch {
    return { selection };
  }
}

function set(selection: Selection, data: string | Uint8Array, target: string | undefined, options: ToolOptions): Promise<unknown> {
  // xclip forks a child that serves the selection until someone else takes it; the parent exits at once.
  return runTool('xclip', ['-selection', selection, '-i', ...(target ? ['-t', target] : [])], { ...options, input: data, timeoutMs: 5000, noOutput: true });
}

/**
 * Puts text on both the CLIPBOARD and PRIMARY selections for a paste, runs `paste`, then
 * restores what both held before (so a typed password does not linger on the clipboard).
 */
export async function withPastedText(text: string, options: ToolOptions, paste: () => Promise<void>, serveMs = 150): Promise<void> {
  const before = await Promise.all([save('clipboard', options), save('primary', options)]);
  await set('clipboard', text, 'UTF8_STRING', options);
  await set('primary', text, 'UTF8_STRING', options);
  try {
    await paste();
    // The application asks the selection owner for the text after the key press; give it time.
    await new Promise((done) => setTimeout(done, serveMs));
  } finally {
    const restoreOptions = { ...options, signal: undefined };
    for (const saved of before) await set(saved.selection, saved.data ?? '', saved.data ? saved.target : 'UTF8_STRING', restoreOptions);
  }
}

/** The CLIPBOARD selection's text, for tests and diagnostics. */
export async function readClipboardText(options: ToolOptions, selection: Selection = 'clipboard'): Promise<string | undefined> {
  const saved = await save(selection, options);
  return saved.data?.toString('utf8');
}
