import * as tf from '@tensorflow/tfjs-core';

/** Thrown when a call leaves more tensors alive than it found. */
export class TensorLeakError extends Error {
  constructor(
    readonly label: string,
    readonly before: number,
    readonly after: number,
  ) {
    super(`${label} leaked ${after - before} tensor(s): tf.memory().numTensors went from ${before} to ${after}`);
    this.name = 'TensorLeakError';
  }
}

export interface LeakRecord {
  label: string;
  before: number;
  after: number;
  leaked: number;
}

/**
 * Watches `tf.memory().numTensors` around labelled calls and says which one leaked.
 *
 * ```ts
 * const guard = new MemoryGuard();
 * await guard.check('forward', () => model.forward(x).logits.dispose());
 * guard.records // [{ label: 'forward', before, after, leaked: 0 }]
 * ```
 */
export class MemoryGuard {
  readonly records: LeakRecord[] = [];

  constructor(private readonly options: { throwOnLeak?: boolean } = {}) {}

  /**
   * Run `fn`, dispose nothing of its result, and compare tensor counts; results that are tensors
   * count as leaks unless `keep` says how many tensors the caller intends to hold.
   */
  async check<T>(label: string, fn: () => T | Promise<T>, keep = 0): Promise<T> {
    const before = tf.memory().numTensors;
    const result = await fn();
    const after = tf.memory().numTensors;
    const leaked = after - before - keep;
    this.records.push({ label, before, after, leaked });
    if (leaked > 0 && this.options.throwOnLeak !== false) {
      throw new TensorLeakError(label, before + keep, after);
    }
    return result;
  }

  /** The records with a positive leak, in call order. */
  leaks(): LeakRecord[] {
    return this.records.filter((r) => r.leaked > 0);
  }

  /** One line per leaking call, or "no leaks". */
  report(): string {
    const leaks = this.leaks();
    if (leaks.length === 0) return `no leaks in ${this.records.length} call(s)`;
    return leaks.map((r) => `${r.label}: +${r.leaked} tensor(s) (${r.before} → ${r.after})`).join('\n');
  }
}

/**
 * Run `fn` `repeat` times and throw a TensorLeakError naming `label` if the tensor count grows
 * between the first completed call (which may create lasting state, such as optimizer slots)
 * and the last.
 */
export async function expectFlatMemory(label: string, fn: (i: number) => unknown, repeat = 3): Promise<void> {
  await fn(0);
  const baseline = tf.memory().numTensors;
  for (let i = 1; i < repeat; i++) await fn(i);
  const after = tf.memory().numTensors;
  if (after !== baseline) throw new TensorLeakError(`${label} (calls 2..${repeat})`, baseline, after);
}
