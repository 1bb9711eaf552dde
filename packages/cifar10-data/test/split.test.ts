import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from '../src/index';

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
