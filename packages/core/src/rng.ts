/**
 * A small, fast, seedable random generator (xoshiro128**, seeded through splitmix32), used for
 * every shuffle, augmentation and initialisation so that runs are reproducible. Its whole state is
 * four 32-bit words plus a cached normal deviate, so it can be saved in a checkpoint and restored.
 */
export interface RngState {
  s: [number, number, number, number];
  /** A second Box–Muller deviate waiting to be returned, or null. */
  spareNormal: number | null;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Hash a string seed (e.g. "data-split") to 32 bits (FNV-1a). */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private s: Uint32Array;
  private spareNormal: number | null = null;

  /** `seed` is any integer or string; equal seeds give equal streams. */
  constructor(seed: number | string = 0) {
    const mix = splitmix32(typeof seed === 'string' ? hashString(seed) : seed);
    this.s = new Uint32Array([mix(), mix(), mix(), mix()]);
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  getState(): RngState {
    return { s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!], spareNormal: this.spareNormal };
  }

  setState(state: RngState): void {
    if (!Array.isArray(state?.s) || state.s.length !== 4 || state.s.some((v) => !Number.isInteger(v))) {
      throw new Error(`RngState.s: expected four 32-bit integers, got ${JSON.stringify(state?.s)}`);
    }
    this.s = new Uint32Array(state.s);
    this.spareNormal = state.spareNormal ?? null;
  }

  /** A new generator whose stream is independent of this one, derived from it and a label. */
  fork(label: string): Rng {
    return new Rng(`${this.s.join(',')}:${label}`);
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new RangeError(`Rng.int(n): n must be an integer in 1..2^32, got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal deviate (Box–Muller). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Normal deviate redrawn until it lies within `bound` standard deviations (as trunc_normal_). */
  truncatedNormal(mean = 0, std = 1, bound = 2): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= bound) return mean + std * z;
    }
  }

  /** `true` with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T, A extends { length: number; [i: number]: T }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i]!;
      array[i] = array[j]!;
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** Fill a Float32Array with normal deviates. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** Fill a Float32Array with truncated-normal deviates (bound in standard deviations). */
  fillTruncatedNormal(out: Float32Array, mean = 0, std = 1, bound = 2): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.truncatedNormal(mean, std, bound);
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
