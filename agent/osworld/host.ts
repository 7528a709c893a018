/** A command from a task file: one shell string, or an argument vector run without a shell. */
export type CommandSpec = { readonly shell: string } | { readonly argv: readonly string[] };

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
}

export interface WindowMatch {
  readonly name: string;
  /** Whole-name match rather than substring. */
  readonly strict: boolean;
  /** Match the window class rather than its title. */
  readonly byClass: boolean;
}

/**
 * Everything a task's set-up steps and getters do to the machine, behind one seam: the local
 * desktop in the CLI, a recording fake in unit tests. Consent is checked before any of these
 * is called; the host itself just does what it is told.
 */
export interface TaskHost {
  readonly screen: { readonly width: number; readonly height: number };
  /** Runs to completion (or the timeout) and returns what it printed. */
  run(command: CommandSpec, options?: { readonly timeoutMs?: number; readonly signal?: AbortSignal }): Promise<CommandResult>;
  /** Starts a program and returns without waiting for it. */
  launch(command: CommandSpec): Promise<void>;
  /** Opens a file or folder with the desktop's default application. */
  open(path: string): Promise<void>;
  activateWindow(match: WindowMatch): Promise<void>;
  closeWindow(match: WindowMatch): Promise<void>;
  /** One pyautogui call, executed through Kestrel's own parser and operator (never Python). */
  pyautogui(code: string, signal?: AbortSignal): Promise<void>;
  /** `~/x` and relative paths as the desktop's user sees them. */
  resolvePath(path: string): string;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Characters that would change what the person reads in a consent listing without showing up:
 * line breaks and other controls (Cc), invisible format characters such as bidi overrides and
 * zero-width spaces (Cf), and the Unicode line and paragraph separators.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const INVISIBLE_ALL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  if (Object.hasOwn(NAMED, c)) return NAMED[c]!;
  const code = c.codePointAt(0)!;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  return code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text from a task file as shown to a person (Python code, window names): invisible characters
 * become escapes (`\n`, `\x1b`, `\u202e`), so one line shows everything there is.
 */
export function showText(text: string): string {
  return text.replace(INVISIBLE_ALL, escapeChar);
}

/**
 * One argument as a POSIX shell would read it back: bare when it is plain, in single quotes
 * when it holds spaces or shell syntax, and in bash's `$'…'` when it holds invisible characters,
 * so a line break can never pass for a space.
 */
function quoteArg(arg: string): string {
  if (/^[\w@%+=:,./~-]+$/.test(arg)) return arg;
  if (!INVISIBLE.test(arg)) return `'${arg.replace(/'/g, `'\\''`)}'`;
  return `$'${arg.replace(/[\\']/g, (c) => `\\${c}`).replace(INVISIBLE_ALL, escapeChar)}'`;
}

/**
 * How every command appears in consent listings and `--check`: exactly, on one line. A shell
 * string is shown as written unless it holds invisible characters; then it is shown as the
 * `sh -c $'…'` it runs as.
 */
export function displayCommand(command: CommandSpec): string {
  if ('shell' in command) return INVISIBLE.test(command.shell) ? `sh -c ${quoteArg(command.shell)}` : command.shell;
  return command.argv.map(quoteArg).join(' ');
}

/** Splits a command string into words like POSIX shlex (quotes and backslashes, no expansion). */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unbalanced ' in command: ${text}`);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let part = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && /["\\$`]/.test(text[j + 1] ?? '')) j++;
        part += text[j];
      }
      if (j >= text.length) throw new Error(`unbalanced " in command: ${text}`);
      word = (word ?? '') + part;
      i = j;
    } else if (c === '\\') {
      word = (word ?? '') + (text[++i] ?? '');
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}
