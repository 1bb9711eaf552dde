import { FUSED_KERNELS, initBackend, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ViTForImageClassification, createConfig } from '../src';
import { gelu, linear, patchEmbed } from '../src/ops';

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

const tinyConfig = () =>
  createConfig('vit-mini-patch4-32', {
    hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16, image_size: 8,
    id2label: { '0': 'a', '1': 'b', '2': 'c' }, initializer_range: 0.5,
  });

describe('custom-gradient ops agree with TensorFlow.js autodiff (cpu backend)', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it.each([true, false])('linear (bias: %s): value and gradients w.r.t. input, weight and bias', (withBias) => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([2, 5, 6], 0, 1, 'float32', 1); // [B, T, in]
      const w = tf.randomNormal([4, 6], 0, 1, 'float32', 2) as tf.Tensor2D; // [out, in]
      const b = tf.randomNormal([4], 0, 1, 'float32', 3) as tf.Tensor1D;
      const r = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 4); // a random cotangent
      const ours = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww as tf.Tensor2D, withBias ? (bb as tf.Tensor1D) : undefined), r));
      const reference = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
        const y = tf.matMul(tf.reshape(xx, [-1, 6]), ww, false, true);
        return tf.sum(tf.mul(tf.reshape(withBias ? tf.add(y, bb) : y, [2, 5, 4]), r));
      };
      expect(maxDiff(ours(x, w, b), reference(x, w, b))).toBeLessThan(1e-5);
      const inputs = withBias ? [x, w, b] : [x, w];
      const g1 = tf.grads((...t: tf.Tensor[]) => ours(t[0]!, t[1]!, t[2] ?? b))(inputs);
      const g2 = tf.grads((...t: tf.Tensor[]) => reference(t[0]!, t[1]!, t[2] ?? b))(inputs);
      expect(g1).toHaveLength(inputs.length);
      for (let i = 0; i < inputs.length; i++) expect(maxDiff(g1[i]!, g2[i]!), `gradient ${i}`).toBeLessThan(1e-5);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('patch embedding equals HF Conv2d(kernel = stride = patch) in value and gradients', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const pixels = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const weight = tf.randomNormal([6, 3, 4, 4], 0, 1, 'float32', 6) as tf.Tensor4D; // [hidden, C, p, p]
      const bias = tf.randomNormal([6], 0, 1, 'float32', 7) as tf.Tensor1D;
      const r = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 8);
      const ours = (px: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(patchEmbed(px as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D), r));
      const conv = (px: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
        const filter = tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D; // OIHW → HWIO
        const y = tf.add(tf.conv2d(px as tf.Tensor4D, filter, 4, 'valid'), b); // [B, 2, 2, hidden]
        return tf.sum(tf.mul(tf.reshape(y, [2, 4, 6]), r));
      };
      expect(maxDiff(ours(pixels, weight, bias), conv(pixels, weight, bias))).toBeLessThan(1e-4);
      const g1 = tf.grads(ours)([pixels, weight, bias]);
      const g2 = tf.grads(conv)([pixels, weight, bias]);
      for (let i = 0; i < 3; i++) expect(maxDiff(g1[i]!, g2[i]!), `gradient ${i}`).toBeLessThan(1e-4);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('whole-model parameter gradients match central finite differences of the loss', () => {
    const model = ViTForImageClassification.create(tinyConfig(), { seed: 4 });
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const target = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
    const loss = () => tf.losses.softmaxCrossEntropy(target, model.forward(x).logits) as tf.Scalar;
    const names = [
      'vit.embeddings.patch_embeddings.projection.weight',
      'vit.embeddings.cls_token',
      'vit.embeddings.position_embeddings',
      'vit.encoder.layer.0.attention.attention.key.weight',
      'vit.encoder.layer.1.intermediate.dense.bias',
      'vit.encoder.layer.1.layernorm_after.weight',
      'classifier.weight',
    ];
    const { grads } = tf.variableGrads(loss, names.map((n) => model.params.get(n)!));
    const eps = 1e-2;
    for (const name of names) {
      const variable = model.params.get(name)!;
      const analytic = grads[variable.name]!.dataSync();
      const values = variable.dataSync().slice();
      for (const index of [0, Math.floor(values.length / 2), values.length - 1]) {
        const at = (delta: number) => {
          const v = values.slice();
          v[index]! += delta;
          variable.assign(tf.tensor(v, variable.shape));
          return tf.tidy(() => loss().dataSync()[0]!);
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        variable.assign(tf.tensor(values, variable.shape));
        expect(Math.abs(numeric - analytic[index]!), `${name}[${index}]: numeric ${numeric} vs analytic ${analytic[index]}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
      }
    }
    tf.dispose([x, target, ...Object.values(grads)]);
    model.dispose();
  });
});

describe('attentionGradients', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('returns d logit[class] / d attention that matches finite differences, per layer', () => {
    const model = ViTForImageClassification.create(tinyConfig(), { seed: 12 });
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 13) as tf.Tensor4D;
    const classIndex = 1;
    const { logits, attentions, gradients } = model.attentionGradients(x, classIndex);
    expect(logits.shape).toEqual([2, 3]);
    expect(gradients.map((g) => g.shape)).toEqual([[2, 2, 5, 5], [2, 2, 5, 5]]);
    expect(attentions.map((a) => a.shape)).toEqual([[2, 2, 5, 5], [2, 2, 5, 5]]);
    const plain = model.forward(x, { outputAttentions: true });
    expect(maxDiff(plain.logits, logits)).toBeLessThan(1e-6);
    expect(maxDiff(plain.attentions![1]!, attentions[1]!)).toBeLessThan(1e-6);
    tf.dispose([plain.logits, ...plain.attentions!]);

    const zeros = () => [0, 1].map(() => tf.zeros([2, 2, 5, 5])) as tf.Tensor4D[];
    const score = (layer: number, flat: number, delta: number) =>
      tf.tidy(() => {
        const offsets = zeros();
        const buf = offsets[layer]!.bufferSync();
        buf.values[flat] = delta;
        offsets[layer] = buf.toTensor() as tf.Tensor4D;
        const l = model.forwardWithAttentionOffsets(x, offsets).dataSync();
        return l[classIndex]! + l[3 + classIndex]!; // Σ_b logits[b, class]
      });
    const eps = 1e-2;
    for (const layer of [0, 1]) {
      const g = gradients[layer]!.dataSync();
      for (const flat of [0, 7, 31, 50 + 13, 99]) {
        const numeric = (score(layer, flat, eps) - score(layer, flat, -eps)) / (2 * eps);
        expect(Math.abs(numeric - g[flat]!), `layer ${layer} [${flat}]: ${numeric} vs ${g[flat]}`).toBeLessThan(2e-3 + 1e-2 * Math.abs(numeric));
      }
    }
    tf.dispose([x, logits, ...attentions, ...gradients]);
    model.dispose();
  });

  it('defaults to each row\'s argmax class and leaks no tensors', () => {
    const model = ViTForImageClassification.create(tinyConfig(), { seed: 3 });
    const x = tf.randomNormal([3, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const out = model.attentionGradients(x);
    const argmax = tf.tidy(() => tf.argMax(out.logits, 1).dataSync());
    const perClass = [0, 1, 2].map((c) => model.attentionGradients(x, c));
    // Row b of the default gradient equals row b of the gradient for class argmax[b].
    const last = out.gradients[1]!.arraySync() as number[][][][];
    for (let b = 0; b < 3; b++) {
      const expected = perClass[argmax[b]!]!.gradients[1]!.arraySync() as number[][][][];
      expect(last[b]).toEqual(expected[b]);
    }
    for (const r of [out, ...perClass]) tf.dispose([r.logits, ...r.attentions, ...r.gradients]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.attentionGradients(x, 3)).toThrow(/classIndex must be an integer in 0..2, got 3/);
    x.dispose();
    model.dispose();
  });
});

describe('attentionGradients across backends', () => {
  it('gives the same gradients on wasm as on cpu (wasm kernels differ: e.g. float32 OneHot)', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await initBackend({ prefer: backend });
      const model = ViTForImageClassification.create(tinyConfig(), { seed: 21 });
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 22) as tf.Tensor4D;
      const out = model.attentionGradients(x);
      const values = out.gradients.map((g) => g.dataSync().slice());
      tf.dispose([x, out.logits, ...out.attentions, ...out.gradients]);
      model.dispose();
      return values;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(cpu.some((g) => g.some((v) => Math.abs(v) > 1e-3))).toBe(true);
    cpu.forEach((g, layer) => {
      let max = 0;
      for (let i = 0; i < g.length; i++) max = Math.max(max, Math.abs(g[i]! - wasm[layer]![i]!));
      expect(max, `layer ${layer}`).toBeLessThan(1e-4);
    });
  });
});

describe('parameter gradients across backends', () => {
  // wasm: WebAssembly SIMD LayerNorm/GELU and a shared Identity; tensorflow: the same kernels made of
  // native TensorFlow ops (FusedBatchNormV3 and its gradient, Erf). cpu runs the composite ops.
  it.each(['wasm', 'tensorflow'] as const)('are the same on %s (fused LayerNorm and GELU kernels) as on cpu (composite ops)', async (fusedBackend) => {
    const run = async (backend: 'cpu' | 'wasm' | 'tensorflow') => {
      await initBackend({ prefer: backend });
      const model = ViTForImageClassification.create(tinyConfig(), { seed: 31 });
      const x = tf.randomNormal([3, 8, 8, 3], 0, 1, 'float32', 32) as tf.Tensor4D;
      const target = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3);
      const before = tf.memory().numTensors;
      const kernels = new Set<string>();
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(target, model.forward(x).logits) as tf.Scalar);
        const out = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync().slice()]));
        tf.dispose([value, ...Object.values(grads)]);
        return out as unknown as tf.Tensor; // plain data: nothing for profile to keep
      });
      for (const k of profile.kernels) kernels.add(k.name);
      expect(tf.memory().numTensors).toBe(before);
      const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(target, model.forward(x).logits) as tf.Scalar);
      const names = [...model.params.keys()];
      const values = new Map(names.map((n) => [n, grads[model.params.get(n)!.name]!.dataSync().slice()]));
      tf.dispose([x, target, ...Object.values(grads)]);
      model.dispose();
      return { values, kernels };
    };
    const cpu = await run('cpu');
    const wasm = await run(fusedBackend);
    // tensorflow's GELU returns Φ(x) too when recording gradients, and its gradient starts from it.
    const [geluFwd, geluBwd] = fusedBackend === 'tensorflow' ? ['VitlensNativeGeluWithCdf', 'VitlensNativeGeluGradFromCdf'] : ['VitlensGelu', 'VitlensGeluGrad'];
    expect(wasm.kernels.has(geluFwd) && wasm.kernels.has(geluBwd) && wasm.kernels.has('VitlensLayerNormGrad')).toBe(true);
    expect(cpu.kernels.has('VitlensGelu') || cpu.kernels.has('VitlensLayerNorm')).toBe(false);
    expect(cpu.kernels.has('Erf')).toBe(true);
    expect([...wasm.values.keys()]).toEqual([...cpu.values.keys()]);
    for (const [name, want] of cpu.values) {
      const got = wasm.values.get(name)!;
      let max = 0;
      let scale = 0;
      for (let i = 0; i < want.length; i++) {
        max = Math.max(max, Math.abs(got[i]! - want[i]!));
        scale = Math.max(scale, Math.abs(want[i]!));
      }
      expect(max, `${name} (largest |gradient| ${scale})`).toBeLessThan(1e-5 + 1e-4 * scale);
    }
  });
});

describe('GELU on tensorflow saves Φ(x) for its gradient', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'tensorflow' });
  });

  it('gives the fused kernel gradient bit for bit and the composite autodiff within float32 rounding, leaving no tensors', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([3, 5, 16], 0, 2, 'float32', 11);
      const r = tf.randomNormal([3, 5, 16], 0, 1, 'float32', 12);
      const [dx] = tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(gelu(xx), r)))([x]);
      const kernelDx = tf.engine().runKernel(FUSED_KERNELS.geluGrad, { dy: r, x }) as tf.Tensor;
      expect(Array.from(dx!.dataSync())).toEqual(Array.from(kernelDx.dataSync()));
      const composite = (xx: tf.Tensor) => tf.sum(tf.mul(tf.mul(tf.mul(xx, 0.5), tf.add(tf.erf(tf.mul(xx, Math.SQRT1_2)), 1)), r));
      const [dxComposite] = tf.grads(composite)([x]);
      expect(maxDiff(dx!, dxComposite!)).toBeLessThan(1e-5);
      // The value is the fused kernel's, with or without a tape.
      const y = gelu(x);
      expect(Array.from(y.dataSync())).toEqual(Array.from((tf.engine().runKernel(FUSED_KERNELS.gelu, { x }) as tf.Tensor).dataSync()));
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Linear on tensorflow adds its bias with BiasAdd', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'tensorflow' });
  });

  it("gives tf.fused.matMul's value bit for bit and the same gradients, leaving no tensors", async () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([2, 7, 6], 0, 1, 'float32', 21);
      const w = tf.randomNormal([5, 6], 0, 1, 'float32', 22) as tf.Tensor2D;
      const b = tf.randomNormal([5], 0, 1, 'float32', 23) as tf.Tensor1D;
      const r = tf.randomNormal([2, 7, 5], 0, 1, 'float32', 24);
      const y = linear(x, w, b);
      const want = tf.reshape(tf.fused.matMul({ a: tf.reshape(x, [-1, 6]) as tf.Tensor2D, b: w, transposeB: true, bias: b }), [2, 7, 5]);
      expect(Array.from(y.dataSync())).toEqual(Array.from(want.dataSync()));
      const loss = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(xx, ww as tf.Tensor2D, bb as tf.Tensor1D), r));
      const reference = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.reshape(tf.add(tf.matMul(tf.reshape(xx, [-1, 6]), ww, false, true), bb), [2, 7, 5]), r));
      const got = tf.grads(loss)([x, w, b]);
      const ref = tf.grads(reference)([x, w, b]);
      for (const [i, g] of got.entries()) expect(maxDiff(g, ref[i]!), `gradient ${i}`).toBeLessThan(1e-5);
    });
    const [x, w, b] = [tf.ones([3, 4]), tf.ones([2, 4]) as tf.Tensor2D, tf.ones([2]) as tf.Tensor1D];
    const profile = await tf.profile(() => tf.tidy(() => linear(x, w, b)));
    tf.dispose([x, w, b, profile.result as tf.Tensor]);
    expect(profile.kernels.map((k) => k.name)).toContain('VitlensNativeBiasAdd');
    expect(tf.memory().numTensors).toBe(before);
  });
});
