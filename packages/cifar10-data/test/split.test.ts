import { describe, expect, it } from 'vitest';
import { balancedHead, stratifiedSplit } from '../src/index';

describe('stratifiedSplit', () => {
  const labels = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) % 10);

  it('holds out exactly valPerClass images of every class, disjoint from train and covering all', () => {
    const { train, val } = stratifiedSplit(labels, 10, { valPerClass: 20, seed: 1 });
    expect(val.length).toBe(200);
    expect(train.length).toBe(800);
    const perClass = new Array(10).fill(0);
    for (const i of val) perClass[labels[i]!]++;
    expect(perClass).toEqual(new Array(10).fill(20));
    const all = new Set([...train, ...val]);
    expect(all.size).toBe(1000);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = stratifiedSplit(labels, 10, { valPerClass: 20, seed: 'split' });
    const b = stratifiedSplit(labels, 10, { valPerClass: 20, seed: 'split' });
    const c = stratifiedSplit(labels, 10, { valPerClass: 20, seed: 'other' });
    expect(a.val).toEqual(b.val);
    expect(a.train).toEqual(b.train);
    expect(a.val).not.toEqual(c.val);
  });

  it('rejects a class smaller than valPerClass and labels out of range', () => {
    expect(() => stratifiedSplit(Uint8Array.from([0, 0, 1]), 2, { valPerClass: 2, seed: 0 })).toThrowError(
      /class 1 has 1 image\(s\), fewer than valPerClass 2/,
    );
    expect(() => stratifiedSplit(Uint8Array.from([0, 3]), 2, { valPerClass: 0, seed: 0 })).toThrowError(/labels\[1\] is 3, not below numClasses 2/);
  });
});

describe('balancedHead', () => {
  // An image folder's order: 30 airplanes, then 30 automobiles, then 12 birds.
  const labels = Uint8Array.from([...Array(30).fill(0), ...Array(30).fill(1), ...Array(12).fill(2)]);
  const counts = (picked: Int32Array) => [0, 1, 2].map((c) => [...picked].filter((i) => labels[i] === c).length);

  it('takes the classes in turn, so a head of a class-sorted split has every class', () => {
    const head = balancedHead(labels, 3, 9);
    expect([...head]).toEqual([0, 1, 2, 30, 31, 32, 60, 61, 62]);
    expect(counts(balancedHead(labels, 3, 10))).toEqual([4, 3, 3]);
    // A class that runs out leaves its turns to the others.
    expect(counts(balancedHead(labels, 3, 50))).toEqual([19, 19, 12]);
    expect(balancedHead(labels, 3, 500).length).toBe(72);
    expect(balancedHead(labels, 3, 0).length).toBe(0);
  });

  it('keeps to the given indices (a held-out split) and their order within a class', () => {
    const heldOut = Int32Array.from([5, 7, 9, 40, 41, 70]);
    expect([...balancedHead(labels, 3, 4, heldOut)]).toEqual([5, 7, 40, 70]);
  });

  it('names a bad count and a label out of range', () => {
    expect(() => balancedHead(labels, 3, -1)).toThrowError('balancedHead: count must be a non-negative integer, got -1');
    expect(() => balancedHead(labels, 2, 5)).toThrowError('balancedHead: labels[60] is 2, not below numClasses 2');
  });
});
