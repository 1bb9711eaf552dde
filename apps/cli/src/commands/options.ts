import { InvalidArgumentError, Option } from 'commander';
import { BACKEND_NAMES } from '@vitlens/core';

/** `--backend <name>`: forces a tfjs backend (overrides VITLENS_BACKEND). */
export function backendOption(): Option {
  return new Option('--backend <name>', 'force a TensorFlow.js backend (default: best available; env VITLENS_BACKEND)').choices(
    BACKEND_NAMES as string[],
  );
}

/** Parse a positive integer flag value, naming the flag on error. */
export function positiveInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} expects a positive integer, got '${value}'`);
    return n;
  };
}

/** Parse a non-negative integer flag value, naming the flag on error. */
export function nonNegativeInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} expects an integer ≥ 0, got '${value}'`);
    return n;
  };
}

/** Parse a positive finite number flag value, naming the flag on error. */
export function positiveNumber(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} expects a positive number, got '${value}'`);
    return n;
  };
}

/** Parse a finite number ≥ 0, naming the flag on error. */
export function nonNegativeNumber(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} expects a number ≥ 0, got '${value}'`);
    return n;
  };
}
