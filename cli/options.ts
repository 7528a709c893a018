import { InvalidArgumentError } from 'commander';

/** Commander argument parser for a positive integer flag, with a message that names the value. */
export function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) <= 0) {
      throw new InvalidArgumentError(`${name} must be a positive whole number, got '${value}'.`);
    }
    return Number(value);
  };
}

/** Commander argument parser for a whole number ≥ 0 (a delay, a speed, a seed, a thread count). */
export function wholeNumber(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0, got '${value}'.`);
    return Number(value);
  };
}

/** Commander argument parser for a number ≥ 0 (temperature, top-p). */
export function nonNegativeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0, got '${value}'.`);
    return n;
  };
}

/** Port numbers: 0 asks the system for a free one. */
export function portNumber(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new InvalidArgumentError(`port must be a number from 0 to 65535, got '${value}'.`);
  }
  return port;
}

/** Collects a repeatable option's values in the order given (`--launch a --launch b`). */
export function repeatable(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}
