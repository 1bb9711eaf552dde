import { float32ToBF16, float32ToF16, initBackend, readSafetensors, tensorToFloat32, tf, writeSafetensors } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ViTForImageClassification, modelFromFiles } from '../src';
import { fixtureFiles, golden, goldenTensor, maxAbsDiff } from './helpers';

// scripts/make_golden.py computes these with a PyTorch ViT of HF semantics, in float64.
const TOLERANCE = 1e-4;
const g = golden();

describe.each(['cpu', 'wasm', 'tensorflow'] as const)('golden numerics on the %s backend', (backend) => {
  beforeAll(async () => {
    await initBackend({ prefer: backend });
  });

  it('matches the reference logits, every attention map and every hidden state to 1e-4', () => {
    const model = modelFromFiles(fixtureFiles('tiny-vit'));
    const before = tf.memory().numTensors;
    const x = goldenTensor(g, 'pixel_values') as tf.Tensor4D;
    const out = model.forward(x, { outputAttentions: true, outputHiddenStates: true });
    expect(maxAbsDiff(out.logits, g.get('logits'))).toBeLessThan(TOLERANCE);
    expect(out.attentions).toHaveLength(2);
    out.attentions!.forEach((a, i) => {
      expect(maxAbsDiff(a, g.get(`attentions.${i}`)), `attention ${i}`).toBeLessThan(TOLERANCE);
    });
    expect(out.hiddenStates).toHaveLength(3);
    out.hiddenStates!.forEach((h, i) => {
      expect(maxAbsDiff(h, g.get(`hidden_states.${i}`)), `hidden ${i}`).toBeLessThan(TOLERANCE);
    });
    tf.dispose([x, out.logits, ...out.attentions!, ...out.hiddenStates!]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('gives PyTorch\'s loss and gradient for every parameter (mean cross-entropy, float64 reference)', () => {
    const model = modelFromFiles(fixtureFiles('tiny-vit'));
    const x = goldenTensor(g, 'pixel_values') as tf.Tensor4D;
    const labels = Array.from(g.get('grad.labels')!.data, Math.round);
    const target = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(target, model.forward(x).logits) as tf.Scalar);
    expect(Math.abs(value.dataSync()[0]! - g.get('grad.loss')!.data[0]!)).toBeLessThan(1e-5);
    const names = [...model.params.keys()];
    expect(names.length).toBe([...g.keys()].filter((k) => k.startsWith('grad.') && k !== 'grad.loss' && k !== 'grad.labels').length);
    for (const name of names) {
      const want = g.get(`grad.${name}`);
      const scale = Math.max(...Array.from(want!.data, Math.abs));
      // float32 against float64, relative to the gradient's largest entry; the key biases' gradients
      // are exactly 0 (softmax ignores a per-row constant), so float32 rounding needs a small floor
      expect(maxAbsDiff(grads[model.params.get(name)!.name]!, want), `${name} (largest |gradient| ${scale})`).toBeLessThan(1e-6 + 1e-4 * scale);
    }
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, target]);
    model.dispose();
  });

  it('runs at another image size through interpolated position embeddings, matching HF interpolate_pos_encoding', () => {
    const model = modelFromFiles(fixtureFiles('tiny-vit'), { imageSize: 20 });
    expect(model.config.image_size).toBe(20);
    expect(model.params.get('vit.embeddings.position_embeddings')!.shape).toEqual([1, 26, 24]);
    const x = goldenTensor(g, 'interp.pixel_values') as tf.Tensor4D;
    const out = model.forward(x, { outputAttentions: true });
    expect(maxAbsDiff(out.logits, g.get('interp.logits'))).toBeLessThan(TOLERANCE);
    out.attentions!.forEach((a, i) => {
      expect(maxAbsDiff(a, g.get(`interp.attentions.${i}`))).toBeLessThan(TOLERANCE);
    });
    tf.dispose([x, out.logits, ...out.attentions!]);
    model.dispose();
  });

  it('loads a headless ViTModel checkpoint (no vit. prefix, pooler ignored) and gives its hidden states', () => {
    const labels = { '0': 'cat', '1': 'dog', '2': 'ship' };
    const model = modelFromFiles(fixtureFiles('tiny-vit-headless'), { id2label: labels, seed: 3 });
    expect(model.initializedFromSeed.sort()).toEqual(['classifier.bias', 'classifier.weight']);
    expect(model.config.id2label).toEqual(labels);
    const x = goldenTensor(g, 'pixel_values') as tf.Tensor4D;
    const out = model.forward(x, { outputHiddenStates: true });
    expect(out.logits.shape).toEqual([2, 3]);
    out.hiddenStates!.forEach((h, i) => {
      expect(maxAbsDiff(h, g.get(`headless.hidden_states.${i}`))).toBeLessThan(TOLERANCE);
    });
    tf.dispose([x, out.logits, ...out.hiddenStates!]);
    model.dispose();
  });
});

describe('half-precision checkpoints', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'wasm' });
  });

  it.each([
    ['F16', float32ToF16, 2e-2],
    ['BF16', float32ToBF16, 2e-1],
  ] as const)('upcasts %s weights to float32 and stays close to the float32 logits', (dtype, convert, tolerance) => {
    const files = fixtureFiles('tiny-vit');
    const { tensors } = readSafetensors(files.weights);
    const half = new Map([...tensors].map(([k, t]) => [k, { dtype, shape: t.shape, data: convert(tensorToFloat32(t)) }]));
    const model = modelFromFiles({ ...files, weights: writeSafetensors(half, { format: 'pt' }) });
    const x = goldenTensor(g, 'pixel_values') as tf.Tensor4D;
    const { logits } = model.forward(x);
    const diff = maxAbsDiff(logits, g.get('logits'));
    expect(diff).toBeGreaterThan(0); // rounding did happen
    expect(diff).toBeLessThan(tolerance);
    tf.dispose([x, logits]);
    model.dispose();
  });

  it('reference fixture class: loads as ViTForImageClassification with the CIFAR-10 labels', () => {
    const model = modelFromFiles(fixtureFiles('tiny-vit'));
    expect(model).toBeInstanceOf(ViTForImageClassification);
    expect(model.config.id2label['3']).toBe('cat');
    expect(model.initializedFromSeed).toEqual([]);
    model.dispose();
  });
});
