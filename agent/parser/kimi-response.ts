import type { Action } from '../actions.ts';
import { preview } from '../one-line.ts';
import { parseStatements } from './python-calls.ts';
import { PythonSyntaxError } from './python-tokens.ts';
import { statementsToActions, type CoordinateOptions } from './pyautogui.ts';

export const THINK_OPEN = '◁think▷';
export const THINK_CLOSE = '◁/think▷';

interface ReplyParts {
  /** Reasoning between ◁think▷ and ◁/think▷, trimmed (Thinking models only). */
  readonly thinking?: string;
  /** The prose of the `## Action:` section: what the model says it will do. */
  readonly description?: string;
  /** The code that was read (without fences). */
  readonly code?: string;
}

export type ParseResult =
  | (ReplyParts & { readonly ok: true; readonly actions: readonly Action[] })
  | (ReplyParts & {
      readonly ok: false;
      /** One line saying what was not understood; fit to feed back to the model. */
      readonly error: string;
      /** True when the reply was cut off (inside the thinking, or an unclosed string/bracket at the end). */
      readonly truncated: boolean;
    });

export type ParseOptions = CoordinateOptions;

function splitThinking(reply: string): { thinking?: string; answer: string; truncated: boolean } {
  const open = reply.indexOf(THINK_OPEN);
  const close = reply.indexOf(THINK_CLOSE);
  if (close >= 0 && (open < 0 || open < close)) {
    const start = open >= 0 ? open + THINK_OPEN.length : 0;
    return { thinking: reply.slice(start, close).trim(), answer: reply.slice(close + THINK_CLOSE.length), truncated: false };
  }
  if (open >= 0) return { thinking: reply.slice(open + THINK_OPEN.length).trim(), answer: '', truncated: true };
  return { answer: reply, truncated: false };
}

const HEADINGS = new Set(['action', 'code', 'thought', 'thinking', 'observation', 'reflection', 'explanation', 'answer']);

function isLineBreak(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/**
 * The heading `## Name[ \t]*(:|end of line)` whose hashes are at `hashes`: its lower-case name, where
 * its line's text starts (after the colon) and where that line ends.
 */
function headingAt(text: string, hashes: number): { name: string; textStart: number; lineEnd: number } | undefined {
  let i = hashes + 2;
  while (isBlank(text.charCodeAt(i))) i++;
  const nameStart = i;
  while (isLetter(text.charCodeAt(i))) i++;
  // No heading name is longer than 'observation'; anything longer is prose.
  if (i - nameStart > 11) return undefined;
  const name = text.slice(nameStart, i).toLowerCase();
  if (!HEADINGS.has(name)) return undefined;
  while (isBlank(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) === 58) i++;
  else if (i < text.length && !isLineBreak(text.charCodeAt(i))) return undefined;
  const textStart = i;
  while (i < text.length && !isLineBreak(text.charCodeAt(i))) i++;
  return { name, textStart, lineEnd: i };
}

/**
 * `## Action:`-style headings and the text under each, keyed by lower-case name: the text on the
 * heading's line and the lines up to the next heading. The first heading of a name wins.
 */
function sections(answer: string): Map<string, string> {
  const found = new Map<string, string>();
  let open: { name: string; textStart: number } | undefined;
  // Only ## at the start of a line (after blanks) opens a heading; the text between is skipped unread.
  for (let hashes = answer.indexOf('##'); hashes >= 0; hashes = answer.indexOf('##', hashes + 2)) {
    let start = hashes;
    while (start > 0 && isBlank(answer.charCodeAt(start - 1))) start--;
    if (start > 0 && !isLineBreak(answer.charCodeAt(start - 1))) continue;
    const heading = headingAt(answer, hashes);
    if (!heading) continue;
    if (open) found.set(open.name, answer.slice(open.textStart, start).trim());
    open = found.has(heading.name) ? undefined : heading;
    if (open) found.set(open.name, '');
    hashes = heading.lineEnd - 2;
  }
  if (open) found.set(open.name, answer.slice(open.textStart).trim());
  return found;
}

const FENCE = '```';

/** The contents of fenced blocks, or the text itself when it has no fence. An unclosed fence runs to the end. */
function unfence(text: string): string {
  let open = text.indexOf(FENCE);
  if (open < 0) return text.trim();
  const blocks: string[] = [];
  while (open >= 0) {
    // The info string (```python) runs to the end of the line or the next backtick.
    let body = open + FENCE.length;
    while (body < text.length && text.charCodeAt(body) !== 10 && text.charCodeAt(body) !== 96) body++;
    if (text.charCodeAt(body) === 10) body++;
    const close = text.indexOf(FENCE, body);
    const block = text.slice(body, close < 0 ? text.length : close).trim();
    if (block !== '') blocks.push(block);
    open = close < 0 ? -1 : text.indexOf(FENCE, close + FENCE.length);
  }
  return blocks.join('\n');
}

// Blanks before the code may not include line breaks: \s* there made the search quadratic in blank lines.
const CODE_START = /^[^\S\n\r\u2028\u2029]*(?:pyautogui\.|computer\.|time\.|import\s|WAIT\b|DONE\b|FAIL\b|CALL_USER\b)/m;

/** Where the code is: the `## Code:` section, else fenced blocks, else the whole answer from the first line that reads as code. */
function findCode(answer: string, parts: Map<string, string>): string | undefined {
  const section = parts.get('code');
  if (section !== undefined) return unfence(section);
  const fence = answer.indexOf(FENCE);
  if (fence >= 0) return unfence(answer.slice(fence));
  const start = CODE_START.exec(answer);
  return start ? answer.slice(start.index).trim() : undefined;
}

function parse(reply: string, options: ParseOptions): ParseResult {
  const { thinking, answer, truncated } = splitThinking(reply);
  const base = thinking !== undefined ? { thinking } : {};
  if (truncated) {
    return { ...base, ok: false, truncated: true, error: `the reply was cut off inside ${THINK_OPEN} before any action; allow more tokens` };
  }
  const parts = sections(answer);
  const description = parts.get('action');
  const withDescription = description ? { ...base, description } : base;
  const code = findCode(answer, parts);
  if (code === undefined || code === '') {
    const said = preview(answer) || '(nothing)';
    return { ...withDescription, ok: false, truncated: false, error: `the reply has no ## Code: section with a pyautogui call; it said: ${said}` };
  }
  try {
    const actions = statementsToActions(parseStatements(code), options);
    if (actions.length === 0) {
      return { ...withDescription, code, ok: false, truncated: false, error: 'the ## Code: section holds no action' };
    }
    return { ...withDescription, code, ok: true, actions };
  } catch (err) {
    if (!(err instanceof PythonSyntaxError)) throw err;
    const cutOff = /never closed/.test(err.message);
    return { ...withDescription, code, ok: false, truncated: cutOff, error: `could not read the code: ${err.message}` };
  }
}

/**
 * Reads a Kimi-VL agent reply (`## Action:` prose, `## Code:` pyautogui calls, optional
 * ◁think▷ reasoning) into actions with normalised coordinates. Pure; never evaluates the code;
 * never throws: malformed input of any kind comes back as `{ ok: false, error }`.
 */
export function parseKimiResponse(reply: string, options: ParseOptions = {}): ParseResult {
  try {
    return parse(typeof reply === 'string' ? reply : String(reply), options);
  } catch (err) {
    // A bug here must not crash a run: report it like any unreadable reply.
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, truncated: false, error: `the reply could not be read (${preview(message)})` };
  }
}
