import { describe, expect, it } from 'vitest';
import { Rng } from '../src/index';

const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.nextUint32());

describe('Rng', () => {
  it('the same seed gives the same stream, for numbers and strings', () => {
    expect(draw(new Rng(42), 100)).toEqual(draw(new Rng(42), 100));
    expect(draw(new Rng('data-split'), 100)).toEqual(draw(new Rng('data-split'), 100));
  });

  it('different seeds give different streams', () => {
    const streams = [new Rng(0), new Rng(1), new Rng(2), new Rng('0'), new Rng('a')].map((r) => draw(r, 8).join(','));
    expect(new Set(streams).size).toBe(streams.length);
  });

  it('restoring a saved state continues the stream identically, normal deviates included', () => {
    const rng = new Rng(7);
    draw(rng, 13);
    rng.normal(); // leaves a spare Box–Muller deviate in the state
    const saved = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.next(), rng.normal(), rng.int(1000), rng.normal(), rng.uniform(-1, 1)];
    const restored = Rng.fromState(saved);
    expect([restored.next(), restored.normal(), restored.int(1000), restored.normal(), restored.uniform(-1, 1)]).toEqual(expected);
    const other = new Rng(99);
    other.setState(saved);
    expect(other.next()).toBe(expected[0]);
  });

  it('refuses a malformed state with what was expected', () => {
    expect(() => Rng.fromState({ s: [1, 2, 3] as unknown as [number, number, number, number], spareNormal: null })).toThrow(
      /RngState.s: expected four 32-bit integers, got \[1,2,3\]/,
    );
  });

  it('int(n) is uniform over 0..n-1 (chi-square, fixed seed) and refuses bad n', () => {
    const rng = new Rng(2024);
    const n = 10;
    const draws = 100_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < draws; i++) counts[rng.int(n)]!++;
    const expected = draws / n;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.88); // 9 degrees of freedom, p = 0.001
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(() => rng.int(0)).toThrow(/n must be an integer in 1..2\^32, got 0/);
    expect(() => rng.int(2.5)).toThrow(/got 2.5/);
  });

  it('next() stays in [0, 1) and has mean 1/2', () => {
    const rng = new Rng(3);
    let sum = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < 50_000; i++) {
      const x = rng.next();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / 50_000 - 0.5)).toBeLessThan(0.01);
  });

  it('shuffle and permutation return permutations, deterministically', () => {
    const rng = new Rng(5);
    const p = rng.permutation(1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(new Rng(5).permutation(1000))).toEqual(Array.from(p));
    const letters = ['a', 'b', 'c', 'd', 'e'];
    const shuffled = new Rng(1).shuffle([...letters]);
    expect([...shuffled].sort()).toEqual(letters);
  });

  it('normal(mean, std) has the requested mean and standard deviation', () => {
    const rng = new Rng(11);
    const n = 100_000;
    const xs = Array.from({ length: n }, () => rng.normal(3, 2));
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(Math.abs(mean - 3)).toBeLessThan(0.03);
    expect(Math.abs(std - 2)).toBeLessThan(0.03);
  });

  it('truncatedNormal and fillTruncatedNormal stay within the bound', () => {
    const rng = new Rng(12);
    const out = rng.fillTruncatedNormal(new Float32Array(20_000), 0, 0.02, 2);
    expect(out.every((v) => Math.abs(v) <= 0.04 + 1e-9)).toBe(true);
    const std = Math.sqrt(out.reduce((a, b) => a + b * b, 0) / out.length);
    // A standard normal truncated at ±2 has std ≈ 0.8796.
    expect(std / 0.02).toBeGreaterThan(0.86);
    expect(std / 0.02).toBeLessThan(0.9);
  });

  it('fork(label) gives independent, reproducible streams without advancing the parent', () => {
    const parent = new Rng(8);
    const a = draw(parent.fork('augment'), 5);
    const b = draw(parent.fork('init'), 5);
    expect(a).not.toEqual(b);
    expect(draw(new Rng(8).fork('augment'), 5)).toEqual(a);
    expect(draw(parent, 5)).toEqual(draw(new Rng(8), 5));
  });
});
