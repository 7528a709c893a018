import { readFile } from 'node:fs/promises';

/**
 * OSWorld's metric functions that make sense on a local desktop, reimplemented from their
 * documented behaviour: each takes the result getter's value, the expected getter's value (if
 * any) and the task's options, and returns a score from 0 to 1. A missing result scores 0.
 */
export type Metric = (result: unknown, expected: unknown, options: Record<string, unknown>) => number | Promise<number>;

type Rules = Record<string, unknown>;
const rules = (expected: unknown): Rules => (typeof expected === 'object' && expected !== null ? (expected as Rules) : {});

/** Python's `==` on JSON-like values: deep, order-sensitive for lists. */
function pyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => pyEqual((a as Rules)[k], (b as Rules)[k]));
}

/** Python's `in`: substring for strings, membership for lists, key for objects. */
function pyContains(container: unknown, item: unknown): boolean {
  if (typeof container === 'string') return typeof item === 'string' && container.includes(item);
  if (Array.isArray(container)) return container.some((x) => pyEqual(x, item));
  if (typeof container === 'object' && container !== null) return typeof item === 'string' && Object.hasOwn(container, item);
  return false;
}

const score = (ok: boolean): number => (ok ? 1 : 0);

async function readText(path: unknown): Promise<string | undefined> {
  if (typeof path !== 'string') return undefined;
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function normaliseText(text: string, options: Record<string, unknown>): string {
  let out = text;
  if (options.ignore_blanks === true) out = out.replace(/[\t\n]/g, ' ').replace(/\s+/g, ' ').trim();
  if (options.ignore_case === true) out = out.toLowerCase();
  return out;
}

/** By name; a Map, so a task's "constructor" or "toString" is no metric. */
export const METRICS: ReadonlyMap<string, Metric> = new Map(Object.entries({
  exact_match: (result, expected) => score(result !== null && result !== undefined && pyEqual(result, rules(expected).expected)),
  check_include_exclude: (result, expected) => {
    if (result === null || result === undefined) return 0;
    const { include = [], exclude = [] } = rules(expected) as { include?: unknown[]; exclude?: unknown[] };
    return score(include.every((s) => pyContains(result, s)) && exclude.every((s) => !pyContains(result, s)));
  },
  match_in_list: (result, expected) => score(result !== null && result !== undefined && pyContains(rules(expected).expected, result)),
  is_in_list: (result, expected) => score(result !== null && result !== undefined && pyContains(result, rules(expected).expected)),
  literal_match: (result, expected, options) => {
    const ignoreCase = options.ignore_case === true;
    const fold = (v: unknown): string => (ignoreCase ? String(v).toLowerCase() : String(v));
    if (options.type === 'list') {
      if (!Array.isArray(result) || !Array.isArray(expected) || result.length !== expected.length) return 0;
      return score(result.every((r, i) => fold(r) === fold(expected[i])));
    }
    return score(result !== null && result !== undefined && fold(result) === fold(expected));
  },
  compare_text_file: async (result, expected, options) => {
    const [a, b] = await Promise.all([readText(result), readText(expected)]);
    if (a === undefined || b === undefined) return 0;
    return score(normaliseText(a, options) === normaliseText(b, options));
  },
} satisfies Record<string, Metric>));
