import { Rng } from '@vitlens/core';
import { DataError } from './errors';

/** The image indices of each class, in the order given (default: every image); `caller` names the error. */
function groupByClass(labels: Uint8Array, numClasses: number, caller: string, indices?: Int32Array): number[][] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  const count = indices?.length ?? labels.length;
  for (let k = 0; k < count; k++) {
    const index = indices ? indices[k]! : k;
    const label = labels[index];
    if (label === undefined || label >= numClasses) {
      throw new DataError(`${caller}: labels[${index}] is ${label}, not below numClasses ${numClasses}`, undefined, 'labels');
    }
    byClass[label]!.push(index);
  }
  return byClass;
}

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
  const byClass = groupByClass(labels, numClasses, 'stratifiedSplit');
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

/**
 * The first `count` of `indices` (default: every image) taken class by class in turn — the first
 * image of each class, then the second of each, … — so a prefix of a split whose images are
 * grouped by class (an image folder: all airplanes, then all automobiles, …) still has every class
 * in equal shares (±1). Within a class the order of `indices` is kept; the result is sorted.
 */
export function balancedHead(labels: Uint8Array, numClasses: number, count: number, indices?: Int32Array): Int32Array {
  if (!Number.isInteger(count) || count < 0) {
    throw new DataError(`balancedHead: count must be a non-negative integer, got ${count}`, undefined, 'count');
  }
  const byClass = groupByClass(labels, numClasses, 'balancedHead', indices);
  const picked: number[] = [];
  const take = Math.min(count, indices?.length ?? labels.length);
  for (let round = 0; picked.length < take; round++) {
    for (let c = 0; c < numClasses && picked.length < take; c++) {
      const member = byClass[c]![round];
      if (member !== undefined) picked.push(member);
    }
  }
  return Int32Array.from(picked).sort();
}
