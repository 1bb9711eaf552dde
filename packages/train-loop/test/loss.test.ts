import { readFileSync } from 'node:fs';
import { initBackend, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm, crossEntropy } from '../src/index';

const reference = JSON.parse(readFileSync(new URL('./fixtures/torch-reference.json', import.meta.url), 'utf8'));
const ce = reference.crossEntropy as {
  logits: number[];
  shape: [number, number];
  labels: number[];
  targets: number[];
  cases: { kind: 'labels' | 'targets'; smoothing: number; loss: number; grad: number[] }[];
};

describe('cross-entropy matches torch.nn.functional.cross_entropy', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  for (const c of ce.cases) {
    it(`with ${c.kind} and label_smoothing=${c.smoothing}: same loss and same gradient w.r.t. the logits`, () => {
      const before = tf.memory().numTensors;
      const logits = tf.tensor2d(ce.logits, ce.shape);
      const target = c.kind === 'labels' ? { labels: Int32Array.from(ce.labels) } : { targets: Float32Array.from(ce.targets) };
      const x = tf.variable(logits);
      const out = tf.variableGrads(() => crossEntropy(x as unknown as tf.Tensor2D, target, c.smoothing), [x]);
      expect(out.value.dataSync()[0]).toBeCloseTo(c.loss, 5);
      const g = Array.from(out.grads[x.name]!.dataSync());
      for (const [i, v] of g.entries()) expect(v, `grad[${i}]`).toBeCloseTo(c.grad[i]!, 6);
      out.value.dispose();
      out.grads[x.name]!.dispose();
      x.dispose();
      logits.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('rejects a label outside the classes and a wrong-sized target, saying what was expected', () => {
    const logits = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => crossEntropy(logits, { labels: Int32Array.from([0, 3]) })).toThrow(/label 3 is outside 0..2/);
    expect(() => crossEntropy(logits, { targets: new Float32Array(5) })).toThrow(/expected \[2, 3\] = 6/);
    expect(() => crossEntropy(logits, { labels: Int32Array.from([0, 1]) }, 1)).toThrow(/labelSmoothing must be in \[0, 1\)/);
    logits.dispose();
  });
});

describe('clipByGlobalNorm matches torch.nn.utils.clip_grad_norm_', () => {
  it('returns the pre-clip norm and scales every gradient by max/(norm+1e-6)', () => {
    const c = reference.clip;
    const before = tf.memory().numTensors;
    const grads = new Map<string, tf.Tensor>([
      ['a', tf.tensor(c.grads.a, c.shapes.a)],
      ['b', tf.tensor(c.grads.b, c.shapes.b)],
    ]);
    const norm = clipByGlobalNorm(grads, c.maxNorm);
    expect(norm).toBeCloseTo(c.norm, 5);
    for (const k of ['a', 'b'] as const) {
      for (const [i, v] of Array.from(grads.get(k)!.dataSync()).entries()) expect(v).toBeCloseTo(c.clipped[k][i], 6);
    }
    for (const g of grads.values()) g.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves gradients whose norm is below the bound untouched', () => {
    const grads = new Map<string, tf.Tensor>([['a', tf.tensor([0.3, 0.4])]]);
    const original = grads.get('a');
    expect(clipByGlobalNorm(grads, 1)).toBeCloseTo(0.5, 6);
    expect(grads.get('a')).toBe(original);
    original!.dispose();
  });
});
