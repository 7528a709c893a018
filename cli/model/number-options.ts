import { InvalidArgumentError } from 'commander';

/** Commander parser for a number ≥ 0 (temperature, top-p). */
export function nonNegativeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0, got '${value}'.`);
    return n;
  };
}

/** Commander parser for a whole number ≥ 0 (seeds). */
export function wholeNumber(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0, got '${value}'.`);
    return Number(value);
  };
}
