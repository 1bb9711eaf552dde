import { InvalidArgumentError, Option } from 'commander';
import { BACKEND_NAMES, NODE_BACKEND_NAMES } from '@vitlens/core';

/**
 * `--backend <name>`: forces a tfjs backend (overrides VITLENS_BACKEND). The choices are the Node
 * backends; a browser one (webgpu, webgl) is refused with where it does run.
 */
export function backendOption(): Option {
  const choices = NODE_BACKEND_NAMES as string[];
  return new Option('--backend <name>', 'force a TensorFlow.js backend (default: best available; env VITLENS_BACKEND)')
    .choices(choices)
    .argParser((value: string) => {
      if (choices.includes(value)) return value;
      if ((BACKEND_NAMES as readonly string[]).includes(value)) {
        throw new InvalidArgumentError(`${value} is a browser backend (the page that \`vitlens serve\` opens can use it); in Node the backends are ${choices.join(', ')}.`);
      }
      throw new InvalidArgumentError(`Allowed choices are ${choices.join(', ')}.`);
    });
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

/** Largest seed: seeds are 32-bit (they seed the xoshiro state and name per-step streams). */
export const MAX_SEED = 0xffff_ffff;

/** Parse a seed: a decimal integer from 0 to `MAX_SEED`, naming the flag on error. */
export function seedInt(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !(n <= MAX_SEED)) {
      throw new InvalidArgumentError(`${flag} expects an integer from 0 to ${MAX_SEED}, got '${value}'`);
    }
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

/** Parse a probability in [0, 1) (e.g. a stochastic-depth rate), naming the flag on error. */
export function probability(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !(n >= 0 && n < 1)) throw new InvalidArgumentError(`${flag} expects a number in [0, 1), got '${value}'`);
    return n;
  };
}
