/**
 * A lexer for the tiny slice of Python that pyautogui snippets use: names, numbers, string
 * literals, brackets, commas, `=`, `.` and statement separators. It only produces tokens;
 * nothing here is ever evaluated.
 */

export type Token =
  | { readonly kind: 'name'; readonly text: string; readonly line: number }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly line: number }
  | { readonly kind: 'string'; readonly value: string; readonly line: number }
  | { readonly kind: 'punct'; readonly text: string; readonly line: number }
  /** A statement boundary: a newline outside brackets, or `;`. */
  | { readonly kind: 'end'; readonly line: number };

export class PythonSyntaxError extends Error {
  override readonly name = 'PythonSyntaxError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const PUNCT = new Set(['(', ')', '[', ']', ',', '=', '.', '-', '+', ':', '*', '/', '{', '}', '<', '>', '!', '%', '&', '|', '^', '~', '@']);
const OPENERS = new Set(['(', '[', '{']);
const CLOSERS = new Set([')', ']', '}']);

function show(char: string): string {
  return JSON.stringify(char);
}

/** Reads one escape sequence after a backslash at `i`; returns the text and the next index. */
function readEscape(src: string, i: number, line: number): [string, number] {
  const c = src[i];
  if (c === undefined) throw new PythonSyntaxError('a string ends with a lone backslash', line);
  const simple: Record<string, string> = {
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
  if (c in simple) return [simple[c]!, i + 1];
  const hexLength = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  if (hexLength > 0) {
    const hex = src.slice(i + 1, i + 1 + hexLength);
    const code = /^[0-9a-fA-F]+$/.test(hex) && hex.length === hexLength ? Number.parseInt(hex, 16) : NaN;
    if (!(code <= 0x10ffff)) throw new PythonSyntaxError(`bad escape \\${c}${hex} in a string`, line);
    return [String.fromCodePoint(code), i + 1 + hexLength];
  }
  // Python keeps unknown escapes as written (backslash included).
  return ['\\' + c, i + 1];
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let depth = 0;
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      if (depth === 0) tokens.push({ kind: 'end', line });
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      line++;
      i += 2;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === ';') {
      tokens.push({ kind: 'end', line });
      i++;
      continue;
    }
    const prefix = /^[rRuU]?(?=['"])/.exec(src.slice(i, i + 2))?.[0] ?? '';
    if (c === '"' || c === "'" || prefix) {
      const raw = prefix.toLowerCase() === 'r';
      i += prefix.length;
      const quote = src[i]!;
      const triple = src.startsWith(quote.repeat(3), i);
      const close = triple ? quote.repeat(3) : quote;
      const startLine = line;
      i += close.length;
      let value = '';
      for (;;) {
        if (i >= src.length) throw new PythonSyntaxError('a string is never closed', startLine);
        if (src.startsWith(close, i)) {
          i += close.length;
          break;
        }
        const ch = src[i]!;
        if (ch === '\n') {
          if (!triple) throw new PythonSyntaxError('a string is never closed on its line', startLine);
          line++;
        }
        if (ch === '\\') {
          if (raw) {
            value += ch + (src[i + 1] ?? '');
            i += 2;
            continue;
          }
          const [text, next] = readEscape(src, i + 1, line);
          if (src[i + 1] === '\n') line++;
          value += text;
          i = next;
          continue;
        }
        value += ch;
        i++;
      }
      tokens.push({ kind: 'string', value, line: startLine });
      continue;
    }
    const number = /^(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
    if (number) {
      const text = number[0];
      const value = Number(text.replace(/_/g, ''));
      if (!Number.isFinite(value)) throw new PythonSyntaxError(`${text} is not a usable number`, line);
      if (/^[A-Za-z_]/.test(src[i + text.length] ?? '')) {
        throw new PythonSyntaxError(`${JSON.stringify(src.slice(i, i + text.length + 8))} is not a number`, line);
      }
      tokens.push({ kind: 'number', value, text, line });
      i += text.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 256));
    if (name) {
      tokens.push({ kind: 'name', text: name[0], line });
      i += name[0].length;
      continue;
    }
    if (PUNCT.has(c)) {
      if (OPENERS.has(c)) depth++;
      if (CLOSERS.has(c)) depth = Math.max(0, depth - 1);
      tokens.push({ kind: 'punct', text: c, line });
      i++;
      continue;
    }
    throw new PythonSyntaxError(`unexpected character ${show(c)}`, line);
  }
  tokens.push({ kind: 'end', line });
  return tokens;
}
