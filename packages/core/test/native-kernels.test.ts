import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, it } from 'vitest';
import { NATIVE_KERNELS } from '../src/kernels/native';
import { FUSED_KERNELS, initBackend, tf } from '../src/index';

function run(name: string, inputs: Record<string, tf.Tensor>): Float32Array[] {
  const out = tf.engine().runKernel(name, inputs) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(out) ? out : [out];
  const data = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose(list);
  return data;
}

// The GELU that also returns Φ(x), and the gradient from it: the same ops as VitlensGelu /
// VitlensGeluGrad on the same values, so the same float32 results bit for bit.
describe('native GELU saving Φ(x) (tensorflow)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'tensorflow' });
  });

  it('gives VitlensGelu / VitlensGeluGrad bit for bit, and Φ(x) matches double precision', () => {
    const n = 4099;
    const xs = new Float32Array(n);
    const dys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = Math.sin(i * 12.9898) * 7; // [-7, 7], past erf's saturation
      dys[i] = Math.cos(i * 78.233) * 2;
    }
    xs[0] = 0;
    xs[1] = Number.NaN;
    const x = tf.tensor(xs);
    const dy = tf.tensor(dys);
    const [y, cdf] = run(NATIVE_KERNELS.geluWithCdf, { x });
    const [yRef] = run(FUSED_KERNELS.gelu, { x });
    expect(Array.from(y!)).toEqual(Array.from(yRef!));
    const cdfT = tf.tensor(cdf!);
    const [dx] = run(NATIVE_KERNELS.geluGradFromCdf, { dy, x, cdf: cdfT });
    const [dxRef] = run(FUSED_KERNELS.geluGrad, { dy, x });
    expect(Array.from(dx!)).toEqual(Array.from(dxRef!));
    expect(Number.isNaN(dx![1]!)).toBe(true);
    expect(cdf![0]).toBe(0.5); // Φ(0)
    for (let i = 2; i < n; i++) expect(y![i]).toBe(Math.fround(xs[i]! * cdf![i]!)); // y = x·Φ(x) from the Φ returned
    tf.dispose([x, dy, cdfT]);
  });

  it('its gradient matches central finite differences of the forward in double precision', () => {
    const xs = [-3.1, -1, -0.25, 0.3, 0.9, 2.2, 4];
    const h = 1e-3;
    const x = tf.tensor(xs);
    const dy = tf.onesLike(x);
    const [, cdf] = tf.engine().runKernel(NATIVE_KERNELS.geluWithCdf, { x }) as tf.Tensor[];
    const [dx] = run(NATIVE_KERNELS.geluGradFromCdf, { dy, x, cdf: cdf! });
    const f = (v: number[]) => run(NATIVE_KERNELS.geluWithCdf, { x: tf.tensor(v) })[0]!;
    const plus = f(xs.map((v) => v + h));
    const minus = f(xs.map((v) => v - h));
    for (const [i, v] of xs.entries()) expect(Math.abs(dx![i]! - (plus[i]! - minus[i]!) / (2 * h)), `x = ${v}`).toBeLessThan(2e-3);
    tf.dispose([x, dy, cdf!]);
  });

  it('leave no tensors behind, and fastKernels: false removes them', async () => {
    const x = tf.randomNormal([6, 10]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const [y, cdf] = tf.engine().runKernel(NATIVE_KERNELS.geluWithCdf, { x }) as tf.Tensor[];
      run(NATIVE_KERNELS.geluGradFromCdf, { dy: x, x, cdf: cdf! });
      tf.dispose([y!, cdf!]);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    for (const name of Object.values(NATIVE_KERNELS)) expect(tf.getKernel(name, 'tensorflow'), name).toBeDefined();
    await initBackend({ prefer: 'tensorflow', fastKernels: false });
    for (const name of Object.values(NATIVE_KERNELS)) expect(tf.getKernel(name, 'tensorflow'), name).toBeUndefined();
    await initBackend({ prefer: 'tensorflow' });
    for (const name of Object.values(NATIVE_KERNELS)) expect(tf.getKernel(name, 'tensorflow'), name).toBeDefined();
  });
});

describe('native BiasAdd (tensorflow)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'tensorflow' });
  });

  it('equals the broadcasting Add bit for bit, names a mismatched bias and leaves no tensors', () => {
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([37, 3, 24], 0, 3, 'float32', 1);
    const bias = tf.randomNormal([24], 0, 1, 'float32', 2);
    const [got] = run(NATIVE_KERNELS.biasAdd, { x, bias });
    const want = tf.add(x, bias);
    expect(Array.from(got!)).toEqual(Array.from(want.dataSync()));
    const wrong = tf.ones([5]);
    expect(() => tf.engine().runKernel(NATIVE_KERNELS.biasAdd, { x, bias: wrong })).toThrow(/bias \[5\] does not match the last axis of x \[37,3,24\]/);
    tf.dispose([x, bias, want, wrong]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
