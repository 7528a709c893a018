import { KestrelError } from '../../shared/errors.ts';

/** The values OSWorld substitutes into task files. */
export interface PlaceholderValues {
  readonly screenWidth: number;
  readonly screenHeight: number;
  /** From an option; never written to logs (shown as {CLIENT_PASSWORD}). */
  readonly clientPassword?: string;
}

export class PlaceholderError extends KestrelError {
  override readonly name = 'PlaceholderError';
}

const NAMES = ['SCREEN_WIDTH', 'SCREEN_HEIGHT', 'SCREEN_WIDTH_HALF', 'SCREEN_HEIGHT_HALF', 'CLIENT_PASSWORD'] as const;
const PATTERN = new RegExp(`\\{(${NAMES.join('|')})\\}`, 'g');

function table(values: PlaceholderValues, reveal: boolean): Record<string, string | undefined> {
  return {
    SCREEN_WIDTH: String(values.screenWidth),
    SCREEN_HEIGHT: String(values.screenHeight),
    SCREEN_WIDTH_HALF: String(Math.floor(values.screenWidth / 2)),
    SCREEN_HEIGHT_HALF: String(Math.floor(values.screenHeight / 2)),
    CLIENT_PASSWORD: reveal ? values.clientPassword : '{CLIENT_PASSWORD}',
  };
}

/**
 * Replaces OSWorld's placeholders in every string of a JSON value. Other braces (Python code in
 * commands) are left alone. With `reveal` false the password stays a placeholder, for display.
 */
export function fillPlaceholders<T>(value: T, values: PlaceholderValues, reveal = true): T {
  const names = table(values, reveal);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(PATTERN, (_, name: string) => {
        const filled = names[name];
        if (filled === undefined) {
          throw new PlaceholderError(`the task uses {${name}}; give the password of this desktop's user through --client-password-env <VAR>`);
        }
        return filled;
      });
    }
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
