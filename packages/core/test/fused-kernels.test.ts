// Gradients are registered by the model packages in real use; the test registers them itself.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUSED_KERNELS, erf32, fusedKernel, initBackend, registerFusedWasmKernels, tf } from '../src/index';

/** erf in double precision: Maclaurin series for |x| ≤ 3, continued fraction of erfc beyond. */
function erf64(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  if (ax <= 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 120; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) (Lentz-free backward evaluation)
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const gelu64 = (x: number) => 0.5 * x * (1 + erf64(x / Math.SQRT2));
const geluGrad64 = (x: number) => 0.5 * (1 + erf64(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

/** Values that stress every branch: zeros, tiny, the erf clamp at ±4√2, exp underflow, huge. */
const SPECIAL = [0, -0, 1e-8, -1e-8, 0.5, -0.5, 1, -1, 2.5, -2.5, 5.6, -5.6, 5.7, -5.7, 8, -8, 13.3, -13.3, 14, -14, 100, -100, 3e38, -3e38];

/** n pseudo-random values in [-6, 6), the first ones from SPECIAL when `special`. */
function values(n: number, seed: number, special = false): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = special && i < SPECIAL.length ? SPECIAL[i]! : ((s / 2 ** 32) * 2 - 1) * 6;
  }
  return out;
}

/** LayerNorm of one row in double precision. */
function layerNorm64(row: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, eps: number): number[] {
  const w = row.length;
  let m = 0;
  for (let j = 0; j < w; j++) m += row[j]!;
  m /= w;
  let v = 0;
  for (let j = 0; j < w; j++) v += (row[j]! - m) ** 2;
  const s = 1 / Math.sqrt(v / w + eps);
  return Array.from({ length: w }, (_, j) => (row[j]! - m) * s * g[j]! + b[j]!);
}

function run(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}): Float32Array[] {
  const out = tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(out) ? out : [out];
  const data = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose(list);
  return data;
}

describe('erf32', () => {
  it('is within 2e-7 of erf over [-6, 6] and exactly ±1 beyond the clamp', () => {
    let max = 0;
    for (let x = -6; x <= 6; x += 0.001) max = Math.max(max, Math.abs(erf32(x) - erf64(x)));
    expect(max).toBeLessThan(2e-7);
    expect(Math.abs(erf32(50) - 1)).toBeLessThan(1e-7);
    expect(Math.abs(erf32(-50) + 1)).toBeLessThan(1e-7);
  });
});

/** Where the fused kernels run: wasm with its SIMD module or its JS fallback, and native TensorFlow ops. */
const SETUPS = [
  { label: 'wasm, WebAssembly SIMD', backend: 'wasm', simd: true },
  { label: 'wasm, JS', backend: 'wasm', simd: false },
  { label: 'tensorflow, native TensorFlow ops', backend: 'tensorflow', simd: undefined },
] as const;

/** Make `setup`'s backend active with its fused kernels registered as that setup wants them. */
async function activate(setup: (typeof SETUPS)[number]): Promise<void> {
  await initBackend({ prefer: setup.backend });
  if (setup.backend === 'wasm') registerFusedWasmKernels({ simd: setup.simd });
}

describe.each(SETUPS)('fused kernels ($label)', (setup) => {
  beforeAll(async () => {
    await activate(setup);
  });
  afterAll(async () => {
    registerFusedWasmKernels();
    await initBackend({ prefer: 'wasm' });
  });

  it('are registered by initBackend and absent on cpu', async () => {
    for (const name of Object.values(FUSED_KERNELS)) expect(fusedKernel(name), name).toBe(true);
    await initBackend({ prefer: 'cpu' });
    for (const name of Object.values(FUSED_KERNELS)) expect(fusedKernel(name), name).toBe(false);
    await activate(setup);
  });

  // sizes around the SIMD width so the JS tail after the last group of 4 is covered too
  it.each([1, 3, 4, 7, 24, 4097])('GELU and its gradient on %i values match double precision', (n) => {
    const xs = values(n, n, true);
    const dys = values(n, n + 1).map((v) => v / 3);
    const x = tf.tensor(xs);
    const dy = tf.tensor(dys);
    const [y] = run(FUSED_KERNELS.gelu, { x });
    const [dx] = run(FUSED_KERNELS.geluGrad, { dy, x });
    tf.dispose([x, dy]);
    for (let i = 0; i < n; i++) {
      const v = xs[i]!;
      const want = gelu64(v);
      expect(Math.abs(y![i]! - want), `gelu(${v})`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(want)));
      const wantDx = dys[i]! * geluGrad64(v);
      expect(Math.abs(dx![i]! - wantDx), `gelu'(${v})`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(wantDx)));
    }
  });

  it('GELU propagates NaN', () => {
    const x = tf.tensor([Number.NaN, 1, Number.NaN, 2, Number.NaN]);
    const [y] = run(FUSED_KERNELS.gelu, { x });
    const [dx] = run(FUSED_KERNELS.geluGrad, { dy: tf.onesLike(x), x });
    x.dispose();
    expect([0, 2, 4].every((i) => Number.isNaN(y![i]!) && Number.isNaN(dx![i]!))).toBe(true);
  });

  it.each([
    [3, 7],
    [2, 5, 13],
    [130, 192],
    [5, 190],
  ])('LayerNorm over the last axis of [%s, …] matches double precision (value, mean, 1/std)', (...shape: number[]) => {
    const width = shape.at(-1)!;
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const xs = values(rows * width, 7).map((v, i) => v + (i % width === 0 ? 40 : 0)); // offset rows: mean ≠ 0
    const gs = values(width, 8);
    const bs = values(width, 9);
    const x = tf.tensor(xs, shape);
    const gamma = tf.tensor(gs);
    const beta = tf.tensor(bs);
    const [y, mean, rstd] = run(FUSED_KERNELS.layerNorm, { x, gamma, beta }, { epsilon: 1e-12 });
    tf.dispose([x, gamma, beta]);
    for (let r = 0; r < rows; r++) {
      const row = Array.from(xs.subarray(r * width, (r + 1) * width));
      const m = row.reduce((a, b) => a + b, 0) / width;
      const s = 1 / Math.sqrt(row.reduce((a, b) => a + (b - m) ** 2, 0) / width + 1e-12);
      expect(Math.abs(mean![r]! - m)).toBeLessThan(1e-5 * Math.max(1, Math.abs(m)));
      expect(Math.abs(rstd![r]! - s) / s).toBeLessThan(1e-5);
      for (let j = 0; j < width; j++) {
        const want = (row[j]! - m) * s * gs[j]! + bs[j]!;
        expect(Math.abs(y![r * width + j]! - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
      }
    }
  });

  it('LayerNorm gradients (dx, dγ, dβ) match central finite differences in double precision', () => {
    const [rows, width, eps] = [6, 26, 1e-6]; // 26: six groups of 4 and a tail of 2
    const xs = Float64Array.from(values(rows * width, 3));
    const gs = Float64Array.from(values(width, 4));
    const bs = Float64Array.from(values(width, 5));
    const dys = Float64Array.from(values(rows * width, 6));
    // L = Σ dy ⊙ LayerNorm(x; γ, β), in double precision
    const loss = () => {
      let sum = 0;
      for (let r = 0; r < rows; r++) {
        const y = layerNorm64(xs.subarray(r * width, (r + 1) * width), gs, bs, eps);
        for (let j = 0; j < width; j++) sum += dys[r * width + j]! * y[j]!;
      }
      return sum;
    };
    const numeric = (arr: Float64Array) =>
      Array.from(arr, (_, i) => {
        const h = 1e-6;
        const keep = arr[i]!;
        arr[i] = keep + h;
        const up = loss();
        arr[i] = keep - h;
        const down = loss();
        arr[i] = keep;
        return (up - down) / (2 * h);
      });
    const want = [numeric(xs), numeric(gs), numeric(bs)];
    const x = tf.tensor(Float32Array.from(xs), [rows, width]);
    const gamma = tf.tensor(Float32Array.from(gs));
    const beta = tf.tensor(Float32Array.from(bs));
    const dy = tf.tensor(Float32Array.from(dys), [rows, width]);
    const [, mean, rstd] = tf.engine().runKernel(FUSED_KERNELS.layerNorm, { x, gamma, beta }, { epsilon: eps }) as tf.Tensor[];
    const got = run(FUSED_KERNELS.layerNormGrad, { dy, x, mean: mean!, rstd: rstd!, gamma });
    tf.dispose([x, gamma, beta, dy, mean!, rstd!]);
    expect(got.map((g) => g.length)).toEqual([rows * width, width, width]);
    got.forEach((g, k) => {
      let max = 0;
      for (let i = 0; i < g.length; i++) max = Math.max(max, Math.abs(g[i]! - want[k]![i]!) / Math.max(1, Math.abs(want[k]![i]!)));
      expect(max, ['dx', 'dgamma', 'dbeta'][k]).toBeLessThan(1e-4);
    });
  });

  it('LayerNorm names mismatched gamma and non-float32 inputs', () => {
    const x = tf.ones([2, 4]);
    expect(() => tf.engine().runKernel(FUSED_KERNELS.layerNorm, { x, gamma: tf.ones([3]), beta: tf.ones([4]) }, { epsilon: 1e-6 })).toThrow(
      /VitlensLayerNorm: gamma \[3\] and beta \[4\] must be \[4\] for x \[2,4\]/,
    );
    expect(() => tf.engine().runKernel(FUSED_KERNELS.gelu, { x: tf.ones([4], 'int32') })).toThrow(/VitlensGelu: input 'x' must be float32, got int32/);
    x.dispose();
  });

  it('leave no tensors or backend buffers behind, and fastKernels: false removes them', async () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.randomNormal([6, 10]);
    const gamma = tf.ones([10]);
    const beta = tf.zeros([10]);
    const before = { tensors: tf.memory().numTensors, ids: backend.numDataIds() };
    for (let i = 0; i < 3; i++) {
      run(FUSED_KERNELS.gelu, { x });
      run(FUSED_KERNELS.geluGrad, { dy: x, x });
      const [y, mean, rstd] = tf.engine().runKernel(FUSED_KERNELS.layerNorm, { x, gamma, beta }, { epsilon: 1e-6 }) as tf.Tensor[];
      run(FUSED_KERNELS.layerNormGrad, { dy: x, x, mean: mean!, rstd: rstd!, gamma });
      tf.dispose([y!, mean!, rstd!]);
    }
    expect({ tensors: tf.memory().numTensors, ids: backend.numDataIds() }).toEqual(before);
    tf.dispose([x, gamma, beta]);
    await initBackend({ prefer: setup.backend, fastKernels: false });
    for (const name of Object.values(FUSED_KERNELS)) expect(fusedKernel(name), name).toBe(false);
    await activate(setup);
    for (const name of Object.values(FUSED_KERNELS)) expect(fusedKernel(name), name).toBe(true);
  });
});

describe('wasm fused kernels', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('Identity shares the buffer instead of copying it, and the copy outlives its source', () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.tensor([1, 2, 3, 4]);
    const ids = backend.numDataIds();
    const y = tf.clone(x);
    expect(backend.numDataIds()).toBe(ids); // no new buffer
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(backend.numDataIds()).toBe(ids - 1);
  });

  it('fastKernels: false restores the stock Identity, and initBackend puts the shared one back', async () => {
    await initBackend({ prefer: 'wasm', fastKernels: false });
    expect(tf.getKernel('Identity', 'wasm')!.kernelFunc.name).not.toBe('sharedIdentity');
    await initBackend({ prefer: 'wasm' });
    expect(tf.getKernel('Identity', 'wasm')!.kernelFunc.name).toBe('sharedIdentity');
  });
});

describe('fused LayerNorm gradient over many rows', () => {
  afterAll(async () => {
    registerFusedWasmKernels();
    await initBackend({ prefer: 'wasm' });
  });

  it('sums dγ and dβ over 2080 rows in SIMD float32 within 1e-4 of the JS float64 sums', async () => {
    await initBackend({ prefer: 'wasm' });
    const [rows, width] = [2080, 192]; // vit-tiny at batch 32: 32 × 65 tokens
    const grads = (simd: boolean) => {
      registerFusedWasmKernels({ simd });
      const x = tf.tensor(values(rows * width, 11), [rows, width]);
      const dy = tf.tensor(values(rows * width, 12), [rows, width]);
      const gamma = tf.tensor(values(width, 13));
      const beta = tf.tensor(values(width, 14));
      const [y, mean, rstd] = tf.engine().runKernel(FUSED_KERNELS.layerNorm, { x, gamma, beta }, { epsilon: 1e-12 }) as tf.Tensor[];
      const out = run(FUSED_KERNELS.layerNormGrad, { dy, x, mean: mean!, rstd: rstd!, gamma });
      tf.dispose([x, dy, gamma, beta, y!, mean!, rstd!]);
      return out;
    };
    const fast = grads(true);
    const exact = grads(false);
    fast.forEach((g, k) => {
      let max = 0;
      let scale = 0;
      for (let i = 0; i < g.length; i++) {
        max = Math.max(max, Math.abs(g[i]! - exact[k]![i]!));
        scale = Math.max(scale, Math.abs(exact[k]![i]!));
      }
      expect(max / scale, ['dx', 'dgamma', 'dbeta'][k]).toBeLessThan(1e-4);
    });
  });
});
