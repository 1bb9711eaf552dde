import { Rng } from '@vitlens/core';
import { DataError } from './errors';

/**
 * Hold out `valPerClass` images of every class for validation, chosen by a seeded shuffle of each
 * class's indices. The same labels and seed always give the same split; both index lists are sorted.
 */
export function stratifiedSplit(
  labels: Uint8Array,
  numClasses: number,
  opts: { valPerClass: number; seed: number | string },
): { train: Int32Array; val: Int32Array } {
  if (!Number.isInteger(opts.valPerClass) || opts.valPerClass < 0) {
    throw new DataError(`stratifiedSplit: valPerClass must be a non-negative integer, got ${opts.valPerClass}`, undefined, 'valPerClass');
  }
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label >= numClasses) {
      throw new DataError(`stratifiedSplit: labels[${i}] is ${label}, not below numClasses ${numClasses}`, undefined, 'labels');
    }
    byClass[label]!.push(i);
  }
  const rng = new Rng(opts.seed);
  const val: number[] = [];
  const train: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const members = Int32Array.from(byClass[c]!);
    if (members.length < opts.valPerClass) {
      throw new DataError(
        `stratifiedSplit: class ${c} has ${members.length} image(s), fewer than valPerClass ${opts.valPerClass}`,
        undefined,
        'valPerClass',
      );
    }
    // Each class gets its own stream, so adding images of one class does not change another's pick.
    rng.fork(`class-${c}`).shuffle(members);
    for (let k = 0; k < members.length; k++) (k < opts.valPerClass ? val : train).push(members[k]!);
  }
  return { train: Int32Array.from(train).sort(), val: Int32Array.from(val).sort() };
}
