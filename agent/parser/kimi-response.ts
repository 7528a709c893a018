import type { Action } from '../actions.ts';
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

const HEADING = /^[ \t]*##[ \t]*(action|code|thought|thinking|observation|reflection|explanation|answer)[ \t]*(?::|$)(.*)$/gim;

/** `## Action:`-style headings and the text under each, keyed by lower-case name (first wins). */
function sections(answer: string): Map<string, string> {
  const marks = [...answer.matchAll(HEADING)].map((m) => ({
    name: m[1]!.toLowerCase(),
    start: m.index,
    bodyStart: m.index + m[0].length,
    inline: m[2] ?? '',
  }));
  const found = new Map<string, string>();
  marks.forEach((mark, i) => {
    const end = marks[i + 1]?.start ?? answer.length;
    if (!found.has(mark.name)) found.set(mark.name, `${mark.inline}${answer.slice(mark.bodyStart, end)}`.trim());
  });
  return found;
}

/** The contents of fenced blocks, or the text itself when it has no fence. An unclosed fence runs to the end. */
function unfence(text: string): string {
  const blocks = [...text.matchAll(/```[^\n`]*\n?([\s\S]*?)(?:```|$)/g)].map((m) => m[1]!.trim());
  return blocks.length > 0 ? blocks.join('\n') : text.trim();
}

const CODE_START = /^\s*(?:pyautogui\.|computer\.|time\.|import\s|WAIT\b|DONE\b|FAIL\b|CALL_USER\b)/m;

/** Where the code is: the `## Code:` section, else fenced blocks, else the whole answer when it reads as code. */
function findCode(answer: string, parts: Map<string, string>): string | undefined {
  const section = parts.get('code');
  if (section !== undefined) return unfence(section);
  if (answer.includes('```')) return unfence(answer.slice(answer.indexOf('```')));
  const start = CODE_START.exec(answer);
  return start ? answer.slice(start.index).trim() : undefined;
}

function oneLine(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
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
    const said = oneLine(answer) || '(nothing)';
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
    return { ok: false, truncated: false, error: `the reply could not be read (${oneLine(message)})` };
  }
}
