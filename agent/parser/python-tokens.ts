/**
 * A lexer for the tiny slice of Python that pyautogui snippets use: names, numbers, string
 * literals, brackets, commas, `=`, `.` and statement separators. It only produces tokens;
 * nothing here is ever evaluated.
 *
 * Model replies are untrusted and can be large (a runaway generation, a hostile server), so the
 * lexer does a constant amount of work per character: one pass with sticky regular
 * expressions, no slicing ahead, runs of separators collapse into one `end` token, and a snippet
 * may hold at most MAX_TOKENS tokens.
 */

export type Token =
  | { readonly kind: 'name'; readonly text: string; readonly line: number }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly line: number }
  | { readonly kind: 'string'; readonly value: string; readonly line: number }
  | { readonly kind: 'punct'; readonly text: string; readonly line: number }
  /** A statement boundary: a newline outside brackets, or `;`. Never two in a row. */
  | { readonly kind: 'end'; readonly line: number };

/** `text` cut to `max` characters, with an ellipsis when it was longer. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A value from the reply as it may appear inside a one-line message: as JSON (a string quoted),
 * with line breaks and control characters escaped, and cut short when long.
 */
export function quote(value: unknown, max = 40): string {
  const json = typeof value === 'string' ? JSON.stringify(clip(value, max)) : clip(JSON.stringify(value) ?? String(value), max);
  return json.replace(/[\u2028\u2029\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class PythonSyntaxError extends Error {
  override readonly name = 'PythonSyntaxError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const PUNCT = '()[],=.-+:*/{}<>!%&|^~@';
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
  '\n': '',
};

const NUMBER = /(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const HEX = /[0-9a-fA-F]{0,8}/y;
/** The characters of a string body that need no attention, per quote character. */
const PLAIN: Readonly<Record<string, RegExp>> = { "'": /[^'\\\n]+/y, '"': /[^"\\\n]+/y };
/** The same inside triple quotes, where line breaks belong to the string. */
const PLAIN_TRIPLE: Readonly<Record<string, RegExp>> = { "'": /[^'\\]+/y, '"': /[^"\\]+/y };
/** Raw strings keep a backslash and the character after it as written (it only stops a quote from closing). */
const RAW: Readonly<Record<string, RegExp>> = { "'": /(?:[^'\\\n]|\\[^])+/y, '"': /(?:[^"\\\n]|\\[^])+/y };
const RAW_TRIPLE: Readonly<Record<string, RegExp>> = { "'": /(?:[^'\\]|\\[^])+/y, '"': /(?:[^"\\]|\\[^])+/y };

function stickyMatch(pattern: RegExp, src: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(src)?.[0];
}

/** How many characters after the backslash an escape sequence starting with `c` takes. */
function escapeLength(c: string | undefined): number {
  return c === 'x' ? 3 : c === 'u' ? 5 : c === 'U' ? 9 : 1;
}

/** The text of the escape sequence after a backslash at `i`. */
function readEscape(src: string, i: number, line: number): string {
  const c = src[i];
  if (c === undefined) throw new PythonSyntaxError('a string ends with a lone backslash', line);
  if (Object.hasOwn(SIMPLE_ESCAPES, c)) return SIMPLE_ESCAPES[c]!;
  const hexLength = escapeLength(c) - 1;
  if (hexLength > 0) {
    const hex = stickyMatch(HEX, src, i + 1)!.slice(0, hexLength);
    const code = hex.length === hexLength ? Number.parseInt(hex, 16) : NaN;
    if (!(code <= 0x10ffff)) throw new PythonSyntaxError(`bad escape ${quote(`\\${c}${src.slice(i + 1, i + 1 + hexLength)}`)} in a string`, line);
    return String.fromCodePoint(code);
  }
  // Python keeps unknown escapes as written (backslash included).
  return '\\' + c;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

/** Character codes the lexer compares against (inlined: a const enum leaves no object behind). */
const enum Char {
  Tab = 9, Newline = 10, FormFeed = 12, Return = 13, Space = 32, // blanks
  Quote = 34, Apostrophe = 39, Backslash = 92, // strings
  Hash = 35, Dot = 46, Semicolon = 59, Zero = 48, Nine = 57, // comments, dotted names, statements, digits
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isDigit(c: number): boolean {
  return c >= Char.Zero && c <= Char.Nine;
}

/**
 * Most tokens (escape sequences in strings count as one each) a snippet may have: about two
 * thousand calls. One step of an agent is a few actions, and a recorded step that types a long
 * text is one string; the bound keeps the cost of a runaway or hostile reply to milliseconds.
 */
export const MAX_TOKENS = 20_000;

/**
 * Reads tokens one at a time, on demand: a parser that stops at the first error has read no
 * further than that, and tokens already parsed are garbage at once.
 */
export class Lexer {
  private i = 0;
  private line = 1;
  private depth = 0;
  /** Whether the last token handed out was a statement boundary (none is repeated). */
  private atBoundary = true;
  private readonly ahead: Token[] = [];
  private count = 0;
  /** True once the end of the source has been read and every token handed out. */
  get done(): boolean {
    return this.ahead.length === 0 && this.i >= this.src.length && this.atBoundary;
  }

  constructor(private readonly src: string) {}

  /** The token `offset` places ahead, without taking it. */
  peek(offset = 0): Token {
    while (this.ahead.length <= offset) this.ahead.push(this.read());
    return this.ahead[offset]!;
  }

  next(): Token {
    return this.ahead.shift() ?? this.read();
  }

  private emit<T extends Token>(token: T): T {
    this.atBoundary = token.kind === 'end';
    this.counted();
    return token;
  }

  private counted(): void {
    if (++this.count > MAX_TOKENS) {
      throw new PythonSyntaxError(`the code goes on for more than ${MAX_TOKENS} tokens; one step is a few actions`, this.line);
    }
  }

  private read(): Token {
    const src = this.src;
    for (;;) {
      if (this.i >= src.length) return this.emit({ kind: 'end', line: this.line });
      const i = this.i;
      const c = src.charCodeAt(i);
      if (c === Char.Newline || c === Char.Semicolon) {
        this.i++;
        const boundary = c === Char.Semicolon || this.depth === 0;
        const line = this.line;
        if (c === Char.Newline) this.line++;
        if (boundary && !this.atBoundary) return this.emit({ kind: 'end', line });
        continue;
      }
      if (c === Char.Space || c === Char.Tab || c === Char.Return || c === Char.FormFeed) {
        this.i++;
        continue;
      }
      if (c === Char.Backslash && src.charCodeAt(i + 1) === Char.Newline) {
        this.line++;
        this.i += 2;
        continue;
      }
      if (c === Char.Hash) {
        const next = src.indexOf('\n', i);
        this.i = next < 0 ? src.length : next;
        continue;
      }
      return this.emit(this.token(c));
    }
  }

  private token(c: number): Token {
    const src = this.src;
    const i = this.i;
    const line = this.line;
    const next = src.charCodeAt(i + 1);
    const prefixed = (c === 114 || c === 82 || c === 117 || c === 85) && (next === Char.Quote || next === Char.Apostrophe);
    if (c === Char.Quote || c === Char.Apostrophe || prefixed) return this.string(prefixed);
    if (isDigit(c) || (c === Char.Dot && isDigit(next))) {
      const number = stickyMatch(NUMBER, src, i)!;
      const value = Number(number.replace(/_/g, ''));
      if (!Number.isFinite(value)) throw new PythonSyntaxError(`${clip(number, 20)} is not a usable number`, line);
      if (isNameStart(src.charCodeAt(i + number.length))) throw new PythonSyntaxError(`${quote(src.slice(i, i + number.length + 8))} is not a number`, line);
      this.i += number.length;
      return { kind: 'number', value, text: number, line };
    }
    if (isNameStart(c)) {
      const name = stickyMatch(NAME, src, i)!;
      this.i += name.length;
      return { kind: 'name', text: name, line };
    }
    const char = src[i]!;
    if (PUNCT.includes(char)) {
      if (char === '(' || char === '[' || char === '{') this.depth++;
      if (char === ')' || char === ']' || char === '}') this.depth = Math.max(0, this.depth - 1);
      this.i++;
      return { kind: 'punct', text: char, line };
    }
    throw new PythonSyntaxError(`unexpected character ${quote(String.fromCodePoint(src.codePointAt(i)!))}`, line);
  }

  private string(prefixed: boolean): Token {
    const src = this.src;
    const raw = prefixed && (src[this.i] === 'r' || src[this.i] === 'R');
    if (prefixed) this.i++;
    const mark = src[this.i]!;
    const triple = src.startsWith(mark.repeat(3), this.i);
    const close = triple ? mark.repeat(3) : mark;
    const plainRun = (raw ? (triple ? RAW_TRIPLE : RAW) : triple ? PLAIN_TRIPLE : PLAIN)[mark]!;
    const startLine = this.line;
    let i = this.i + close.length;
    // Pieces joined once at the end: appending character by character builds deep string ropes.
    const parts: string[] = [];
    for (;;) {
      const plain = stickyMatch(plainRun, src, i);
      if (plain !== undefined) {
        parts.push(plain);
        i += plain.length;
        this.line += countNewlines(plain);
      }
      if (i >= src.length) throw new PythonSyntaxError('a string is never closed', startLine);
      if (src.startsWith(close, i)) break;
      const ch = src[i]!;
      if (ch === '\n') throw new PythonSyntaxError('a string is never closed on its line', startLine);
      if (ch !== '\\') {
        // The quote character without its closing run (a lone ' inside '''…''').
        parts.push(ch);
        i++;
        continue;
      }
      // A backslash the plain run stopped at: an escape sequence (or, in a raw string, the last character).
      if (raw) throw new PythonSyntaxError('a string is never closed', startLine);
      const after = src[i + 1];
      if (after === '\n') this.line++;
      this.counted();
      parts.push(readEscape(src, i + 1, this.line));
      i += 1 + escapeLength(after);
    }
    this.i = i + close.length;
    return { kind: 'string', value: parts.join(''), line: startLine };
  }
}
