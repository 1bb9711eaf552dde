// Gradients are registered by the model packages in real use; the test registers them itself.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, fastWasmKernelsActive, initBackend, registerFastWasmKernels, tf, unregisterFastWasmKernels } from '../src/index';

interface Case {
  a: number[];
  b: number[];
  tA: boolean;
  tB: boolean;
}

/** Shapes of a and b for a logical [batchA…, M, K] × [batchB…, K, N] under the transpose flags. */
function shapes(batchA: number[], batchB: number[], M: number, K: number, N: number, tA: boolean, tB: boolean): Case {
  return { a: [...batchA, ...(tA ? [K, M] : [M, K])], b: [...batchB, ...(tB ? [N, K] : [K, N])], tA, tB };
}

const FLAGS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
const CASES: Case[] = [
  // attention shapes: QKᵀ [G, 65, d]×[G, d, 65] and AV [G, 65, 65]×[G, 65, d]
  ...FLAGS.map(([tA, tB]) => shapes([6], [6], 65, 32, 65, tA, tB)),
  ...FLAGS.map(([tA, tB]) => shapes([2, 3], [2, 3], 65, 65, 48, tA, tB)),
  // odd sizes, not multiples of 4 or 8
  ...FLAGS.map(([tA, tB]) => shapes([3], [3], 7, 5, 9, tA, tB)),
  ...FLAGS.map(([tA, tB]) => shapes([2], [2], 13, 17, 11, tA, tB)),
  // T = 1 and d = 1
  ...FLAGS.map(([tA, tB]) => shapes([5], [5], 1, 3, 1, tA, tB)),
  ...FLAGS.map(([tA, tB]) => shapes([4], [4], 6, 1, 6, tA, tB)),
  // one product (2-D), transposed or not
  ...FLAGS.map(([tA, tB]) => shapes([], [], 19, 23, 10, tA, tB)),
  // plain 2-D products of ViT Linear layers (fast kernel, not XNNPACK): forward x·W, dW = dYᵀ·X and
  // dX = dY·W, rows = 2 images × 65 tokens, and single rows/columns
  shapes([], [], 130, 128, 384, false, false),
  shapes([], [], 384, 130, 128, false, false),
  shapes([], [], 130, 384, 128, false, false),
  shapes([], [], 130, 192, 76, false, false),
  shapes([], [], 1, 37, 9, false, false),
  shapes([], [], 9, 37, 1, false, false),
  // a batch of one, rank 3
  shapes([1], [1], 33, 20, 27, false, false),
  shapes([1], [], 33, 20, 27, false, false),
  // batch broadcasting: batch dims of 1, and a rank-2 operand against a batched one
  ...FLAGS.map(([tA, tB]) => shapes([1], [4], 5, 7, 3, tA, tB)),
  ...FLAGS.map(([tA, tB]) => shapes([4], [1], 5, 7, 3, tA, tB)),
  ...FLAGS.map(([tA, tB]) => shapes([2, 3], [], 5, 7, 6, tA, tB)),
  shapes([], [2, 3], 5, 7, 6, false, true),
  shapes([2, 3], [1, 1], 9, 4, 10, true, false),
  // ViT-B attention
  shapes([2], [2], 197, 64, 197, false, true),
];

const rng = new Rng(8);
function values(shape: number[]): Float32Array {
  const out = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}
const inputs = CASES.map((c) => ({ a: values(c.a), b: values(c.b), w: values(outShape(c)) }));

function outShape(c: Case): number[] {
  const batch = tf.broadcast_util.assertAndGetBroadcastShape(c.a.slice(0, -2), c.b.slice(0, -2));
  const M = c.tA ? c.a.at(-1)! : c.a.at(-2)!;
  const N = c.tB ? c.b.at(-2)! : c.b.at(-1)!;
  return [...batch, M, N];
}

/** Product and the gradients of sum(w ⊙ product) w.r.t. a and b, on the active backend. */
// tfjs 4.22's BatchMatMul gradient does not reduce over broadcast batch dims (on any backend), so
// gradients are compared only where both operands have the same batch shape.
const hasGradient = (c: Case) => c.a.slice(0, -2).join() === c.b.slice(0, -2).join();

function run(i: number): { y: Float32Array; da?: Float32Array; db?: Float32Array } {
  const c = CASES[i]!;
  const { a, b, w } = inputs[i]!;
  return tf.tidy(() => {
    const ta = tf.tensor(a, c.a);
    const tb = tf.tensor(b, c.b);
    const tw = tf.tensor(w, outShape(c));
    const y = tf.matMul(ta, tb, c.tA, c.tB);
    if (!hasGradient(c)) return { y: y.dataSync() as Float32Array };
    const [da, db] = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, z, c.tA, c.tB), tw)))([ta, tb]);
    return { y: y.dataSync() as Float32Array, da: da!.dataSync() as Float32Array, db: db!.dataSync() as Float32Array };
  });
}

function relativeError(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

const label = (c: Case) => `[${c.a}]${c.tA ? 'ᵀ' : ''} × [${c.b}]${c.tB ? 'ᵀ' : ''}`;

describe('fast wasm BatchMatMul', () => {
  let reference: ReturnType<typeof run>[];

  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
    reference = CASES.map((_, i) => run(i));
    await initBackend({ prefer: 'wasm' });
  });
  afterAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it('is registered by initBackend on wasm', () => {
    expect(fastWasmKernelsActive()).toBe(true);
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name).toBe('fastBatchMatMul');
  });

  it.each(CASES.map((c, i) => [label(c), i] as const))('%s (and its gradients, same batch shapes) matches the cpu backend', (_, i) => {
    const got = run(i);
    const want = reference[i]!;
    expect(relativeError(got.y, want.y)).toBeLessThan(1e-4);
    if (hasGradient(CASES[i]!)) {
      expect(relativeError(got.da!, want.da!)).toBeLessThan(1e-4);
      expect(relativeError(got.db!, want.db!)).toBeLessThan(1e-4);
    }
  });

  it('the copy path (for a backend memory that cannot be imported) matches the cpu backend too', () => {
    registerFastWasmKernels({ copy: true });
    try {
      const before = tf.memory().numTensors;
      for (let i = 0; i < CASES.length; i++) {
        const got = run(i);
        expect(relativeError(got.y, reference[i]!.y), label(CASES[i]!)).toBeLessThan(1e-4);
        if (hasGradient(CASES[i]!)) expect(relativeError(got.da!, reference[i]!.da!), label(CASES[i]!)).toBeLessThan(1e-4);
      }
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      registerFastWasmKernels();
    }
  });

  it('sends a plain 2-D product to the fast kernel, and to the stock one only with { plain2d: false }', () => {
    // Wrap the stock kernel so that calls reaching it are counted; restore it afterwards.
    unregisterFastWasmKernels();
    const original = tf.getKernel('BatchMatMul', 'wasm')!;
    let stockCalls = 0;
    const counting: tf.KernelFunc = (args) => {
      stockCalls++;
      return original.kernelFunc(args);
    };
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ ...original, kernelFunc: counting });
    try {
      const plain = CASES.findIndex((c) => c.a.length === 2 && c.b.length === 2 && !c.tA && !c.tB && c.a[0] === 130);
      expect(plain).toBeGreaterThanOrEqual(0);
      registerFastWasmKernels();
      expect(relativeError(run(plain).y, reference[plain]!.y)).toBeLessThan(1e-4);
      // forward and both gradients (dA = dY·Bᵀ and dB = Aᵀ·dY are transposed products): none is stock
      expect(stockCalls).toBe(0);
      registerFastWasmKernels({ plain2d: false });
      tf.tidy(() => tf.matMul(tf.tensor(inputs[plain]!.a, CASES[plain]!.a), tf.tensor(inputs[plain]!.b, CASES[plain]!.b)).dataSync());
      expect(stockCalls).toBe(1);
    } finally {
      unregisterFastWasmKernels();
      tf.unregisterKernel('BatchMatMul', 'wasm');
      tf.registerKernel(original);
      registerFastWasmKernels();
    }
  });

  it('an empty inner dimension gives zeros, as on cpu', () => {
    const y = tf.tidy(() => tf.matMul(tf.zeros([2, 3, 0]), tf.zeros([2, 0, 4])).dataSync());
    expect(Array.from(y)).toEqual(new Array(24).fill(0));
  });

  it('keeps tfjs errors for mismatched inner dimensions and non-float32 inputs', () => {
    expect(() => tf.tidy(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 5, 4])))).toThrow(/inner shapes \(4\) and \(5\)/);
    const stockError = (() => {
      unregisterFastWasmKernels();
      try {
        tf.tidy(() => tf.matMul(tf.ones([2, 3, 4], 'int32'), tf.ones([2, 4, 5], 'int32')));
        return undefined;
      } catch (e) {
        return (e as Error).message;
      } finally {
        registerFastWasmKernels();
      }
    })();
    expect(stockError).toBeDefined();
    expect(() => tf.tidy(() => tf.matMul(tf.ones([2, 3, 4], 'int32'), tf.ones([2, 4, 5], 'int32')))).toThrow(stockError);
  });

  it('leaks no tensors and no wasm heap across products and gradients', () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    run(0);
    const before = { ...tf.memory(), dataIds: backend.numDataIds() };
    for (let i = 0; i < CASES.length; i++) run(i);
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(backend.numDataIds()).toBe(before.dataIds);
  });

  it('initBackend({ fastKernels: false }) and VITLENS_FAST_KERNELS=0 restore the stock kernel', async () => {
    await initBackend({ prefer: 'wasm', fastKernels: false });
    expect(fastWasmKernelsActive()).toBe(false);
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.name).not.toBe('fastBatchMatMul');
    // the stock kernel computes the same product
    expect(relativeError(run(0).y, reference[0]!.y)).toBeLessThan(1e-4);

    await initBackend({ prefer: 'wasm' });
    expect(fastWasmKernelsActive()).toBe(true);
    process.env.VITLENS_FAST_KERNELS = '0';
    try {
      await initBackend({ prefer: 'wasm' });
      expect(fastWasmKernelsActive()).toBe(false);
      await initBackend({ prefer: 'wasm', fastKernels: true });
      expect(fastWasmKernelsActive()).toBe(true);
    } finally {
      delete process.env.VITLENS_FAST_KERNELS;
    }
  });
});
