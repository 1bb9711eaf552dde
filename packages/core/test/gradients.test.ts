import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { TFJS_GRADIENTS_VERSION, registerGradients } from '../src/gradients';
import { tfjsGradConfigs } from '../src/gradients/tfjs-gradients';
import { initBackend, tf } from '../src/index';

const run = promisify(execFile);

/** Central differences of Σ f(x)·w (w fixed random weights), against tf.grad, at a few entries. */
function checkGradient(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, entries: number[], eps = 1e-2, tol = 2e-2): void {
  const weights = tf.tidy(() => tf.randomUniform(f(x).shape, 0.5, 1.5, 'float32', 7));
  const loss = (t: tf.Tensor) => tf.sum(tf.mul(f(t), weights));
  const analytic = tf.tidy(() => tf.grad(loss)(x).dataSync());
  const values = x.dataSync();
  for (const i of entries) {
    const at = (delta: number) =>
      tf.tidy(() => {
        const copy = Float32Array.from(values);
        copy[i] = copy[i]! + delta;
        return loss(tf.tensor(copy, x.shape)).dataSync()[0]!;
      });
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    expect(Math.abs(numeric - analytic[i]!), `entry ${i}: numeric ${numeric} vs tf.grad ${analytic[i]}`).toBeLessThan(tol * (1 + Math.abs(numeric)));
  }
  weights.dispose();
}

describe("tfjs-core's gradients, registered by @vitlens/core", () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('src/gradients/tfjs-gradients.ts is what scripts/build-gradients.mjs writes from the installed tfjs-core', async () => {
    const script = fileURLToPath(new URL('../scripts/build-gradients.mjs', import.meta.url));
    const { stdout } = await run(process.execPath, [script, '--stdout'], { maxBuffer: 16 << 20 });
    const checkedIn = await readFile(new URL('../src/gradients/tfjs-gradients.ts', import.meta.url), 'utf8');
    expect(stdout === checkedIn, 'stale: run `pnpm --filter @vitlens/core build:gradients`').toBe(true);
    expect(TFJS_GRADIENTS_VERSION).toBe(tf.version_core);
  }, 120_000);

  it('initBackend registered every gradient tfjs-core defines; registering again adds none', () => {
    const kernels = new Set(tfjsGradConfigs.map((c) => c.kernelName));
    expect(kernels.size).toBeGreaterThan(90);
    for (const kernel of kernels) expect(tf.getGradient(kernel), kernel).toBeDefined();
    expect(registerGradients()).toBe(0);
  });

  it('leaves a gradient registered by someone else (the @tensorflow/tfjs umbrella, the app) in place', () => {
    const mine = tf.getGradient('Erf')!;
    const custom = { kernelName: 'Erf', gradFunc: mine.gradFunc, inputsToSave: mine.inputsToSave };
    tf.unregisterGradient('Erf');
    tf.registerGradient(custom);
    expect(registerGradients()).toBe(0);
    expect(tf.getGradient('Erf')).toBe(custom);
  });

  // Kernels a ViT trains through, and the ones whose gradient runs an op tfjs-core does not export
  // (maxPoolGrad, avgPoolGrad, conv2DBackpropFilter: bundled from tfjs-core with public imports).
  it.each([
    ['BatchMatMul', (x: tf.Tensor) => tf.matMul(x as tf.Tensor3D, tf.tile(tf.reshape(tf.range(0, 12), [1, 4, 3]), [2, 1, 1]) as tf.Tensor3D), [2, 3, 4]],
    ['Softmax', (x: tf.Tensor) => tf.softmax(x), [2, 5]],
    ['Erf (GELU)', (x: tf.Tensor) => tf.erf(x), [6]],
    ['Mean/Sub/Rsqrt (LayerNorm)', (x: tf.Tensor) => { const { mean, variance } = tf.moments(x, -1, true); return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))); }, [2, 6]],
    ['Transpose/Reshape', (x: tf.Tensor) => tf.reshape(tf.transpose(x, [0, 2, 1]), [2, 12]), [2, 3, 4]],
    ['GatherV2', (x: tf.Tensor) => tf.gather(x, tf.tensor1d([2, 0, 2], 'int32')), [4, 3]],
    ['MaxPool', (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [1, 4, 4, 2]],
    ['AvgPool', (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), [1, 4, 4, 2]],
    ['Conv2D', (x: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, tf.reshape(tf.div(tf.range(0, 12, 1, 'float32'), 10), [2, 2, 3, 1]) as tf.Tensor4D, 1, 'valid'), [1, 3, 3, 3]],
  ] as const)('%s: tf.grad matches finite differences', (_name, f, shape) => {
    const before = tf.memory().numTensors;
    const x = tf.randomNormal(shape as unknown as number[], 0, 1, 'float32', 3);
    const size = x.size;
    checkGradient(f, x, [0, Math.floor(size / 3), Math.floor((2 * size) / 3), size - 1]);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
