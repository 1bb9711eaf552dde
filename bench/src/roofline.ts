import { tf } from '@vitlens/core';
import type { MatmulShape } from './flops';
import { median } from './stats';

export interface ShapeRate {
  shape: string;
  what: string;
  gflops: number;
}

export interface Roofline {
  /** FLOP-weighted rate over the shapes: total FLOPs / total time if every matmul ran plain. */
  gflops: number;
  shapes: ShapeRate[];
}

/**
 * The backend's own plain 2-D, non-transposed matMul GFLOP/s for one shape: median of `reps`
 * timed windows of at least `minSeconds` each, after a warm-up. Inputs are random normals.
 * Only the last product of a window is read back (to wait for asynchronous backends): reading
 * every output copies it into a fresh JS array, and on the project's VM the page faults of those
 * copies halved the figure for the K = 192 shapes (a [4160,768] output took longer to read than
 * to compute), so the old roofline sat below what the model itself reached.
 */
export async function matmulRate(m: number, k: number, n: number, opts: { reps: number; minSeconds: number }): Promise<number> {
  const a = tf.randomNormal([m, k], 0, 1, 'float32', 1);
  const b = tf.randomNormal([k, n], 0, 1, 'float32', 2);
  try {
    for (let i = 0; i < 2; i++) {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    }
    const rates: number[] = [];
    for (let r = 0; r < opts.reps; r++) {
      let calls = 0;
      const t0 = performance.now();
      for (;;) {
        const c = tf.matMul(a, b);
        calls++;
        if (performance.now() - t0 < opts.minSeconds * 1000) {
          c.dispose();
          continue;
        }
        const corner = tf.slice(c, [0, 0], [1, 1]); // the sync point: one value of the last product
        await corner.data();
        tf.dispose([corner, c]);
        break;
      }
      rates.push((2 * m * k * n * calls) / ((performance.now() - t0) / 1000) / 1e9);
    }
    return median(rates);
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** Measure each distinct shape once and combine them weighted by their FLOPs in one step. */
export async function roofline(shapes: MatmulShape[], opts: { reps: number; minSeconds: number }): Promise<Roofline> {
  const seen = new Map<string, number>();
  const rates: ShapeRate[] = [];
  let flops = 0;
  let seconds = 0;
  for (const s of shapes) {
    const key = `[${s.m},${s.k}]×[${s.k},${s.n}]`;
    let rate = seen.get(key);
    if (rate === undefined) {
      rate = await matmulRate(s.m, s.k, s.n, opts);
      seen.set(key, rate);
      rates.push({ shape: key, what: s.what, gflops: round(rate) });
    }
    const f = 2 * s.m * s.k * s.n * s.count;
    flops += f;
    seconds += f / (rate * 1e9);
  }
  return { gflops: round(flops / seconds / 1e9), shapes: rates };
}

export function round(x: number, digits = 2): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}
