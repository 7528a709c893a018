/**
 * Small runtime validators for everything that crosses into main from a renderer or a socket.
 * Pure (no Node, no DOM) so the renderer may import the types. A failed check throws an
 * `InvalidInput` whose message names the field, what it must be and what it got. Messages reach
 * people (the UI shows them), so they name fields, never the route that carried them.
 */

export class InvalidInput extends Error {
  override readonly name = 'InvalidInput';
}

export type Validator<T> = (value: unknown, path: string) => T;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Throws the InvalidInput for `path`: "<path> must be <expected>, got <value>". */
export function invalid(path: string, expected: string, value: unknown): never {
  throw new InvalidInput(`${path || 'the input'} must be ${expected}, got ${describe(value)}`);
}

/** A field's path in messages: `key` at the top, `outer.key` below. */
export function fieldPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function string(opts: { min?: number; max?: number; pattern?: RegExp; what?: string } = {}): Validator<string> {
  const min = opts.min ?? 0;
  const max = opts.max ?? 10_000;
  const what = opts.what ?? `a string of ${min}–${max} characters`;
  return (value, path) => {
    if (typeof value !== 'string' || value.length < min || value.length > max || value.includes('\0')) {
      invalid(path, what, value);
    }
    if (opts.pattern && !opts.pattern.test(value)) invalid(path, what, value);
    return value;
  };
}

export function number(opts: { min?: number; max?: number; integer?: boolean } = {}): Validator<number> {
  const min = opts.min ?? -Number.MAX_VALUE;
  const max = opts.max ?? Number.MAX_VALUE;
  const what = `${opts.integer ? 'a whole number' : 'a number'} from ${min} to ${max}`;
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) invalid(path, what, value);
    if (opts.integer && !Number.isInteger(value)) invalid(path, what, value);
    return value;
  };
}

export const boolean: Validator<boolean> = (value, path) =>
  typeof value === 'boolean' ? value : invalid(path, 'true or false', value);

export function oneOf<const T extends readonly string[]>(choices: T): Validator<T[number]> {
  return (value, path) =>
    typeof value === 'string' && (choices as readonly string[]).includes(value)
      ? (value as T[number])
      : invalid(path, `one of ${choices.map((c) => `"${c}"`).join(', ')}`, value);
}

export function bytes(opts: { max?: number } = {}): Validator<Uint8Array> {
  const max = opts.max ?? 64 * 1024 * 1024;
  return (value, path) =>
    value instanceof Uint8Array && value.length > 0 && value.length <= max
      ? value
      : invalid(path, `image bytes (1 to ${max} bytes)`, value);
}

export function optional<T>(inner: Validator<T>): Validator<T | undefined> {
  return (value, path) => (value === undefined ? undefined : inner(value, path));
}

export function array<T>(item: Validator<T>, opts: { max?: number } = {}): Validator<T[]> {
  const max = opts.max ?? 10_000;
  return (value, path) => {
    if (!Array.isArray(value) || value.length > max) invalid(path, `a list of at most ${max} items`, value);
    return value.map((v, i) => item(v, `${path || 'the input'}[${i}]`));
  };
}

type Shape = Record<string, Validator<unknown>>;
type Out<S extends Shape> = { [K in keyof S as undefined extends ReturnType<S[K]> ? never : K]: ReturnType<S[K]> } & {
  [K in keyof S as undefined extends ReturnType<S[K]> ? K : never]?: ReturnType<S[K]>;
};

/** A plain object with exactly these keys; unknown keys are refused so typos do not pass silently. */
export function object<S extends Shape>(shape: S): Validator<Out<S>> {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
      invalid(path, 'an object', value);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(shape, key)) {
        throw new InvalidInput(`${path || 'the input'} has an unknown field "${key}"; expected only ${Object.keys(shape).join(', ') || 'no fields'}`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) {
      const v = check(record[key], fieldPath(path, key));
      if (v !== undefined) out[key] = v;
    }
    return out as Out<S>;
  };
}

/** Routes without input accept only nothing (undefined or an empty object). */
export const nothing: Validator<void> = (value, path) => {
  if (value === undefined || value === null) return;
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return;
  invalid(path, 'empty (this route takes no input)', value);
};
