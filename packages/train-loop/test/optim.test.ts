import { readFileSync } from 'node:fs';
import { initBackend, tf } from '@vitlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, type Optimizer, SGD } from '../src/index';

interface Case {
  name: string;
  hyper: Record<string, number | boolean>;
  init: Record<string, number[]>;
  shapes: Record<string, number[]>;
  steps: { lr: number; grad: Record<string, number[]>; after: Record<string, number[]> }[];
}
const reference = JSON.parse(readFileSync(new URL('./fixtures/torch-reference.json', import.meta.url), 'utf8')) as {
  optimizers: Case[];
};

/** A variable holding `t`, which is freed (the variable keeps its data). */
function toVar(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

function makeParams(c: Case): Map<string, tf.Variable> {
  return new Map(Object.keys(c.init).map((k) => [k, toVar(tf.tensor(c.init[k]!, c.shapes[k]!))]));
}

function makeOptimizer(c: Case, params: Map<string, tf.Variable>, flat = false): Optimizer {
  // Only 'w' decays: the fixture gives 'b' a weight_decay of 0, as a bias.
  return c.name.startsWith('adamw') ? new AdamW(params, { ...c.hyper, decay: ['w'], flat }) : new SGD(params, { ...c.hyper, decay: ['w'] });
}

function runSteps(c: Case, opt: Optimizer, from: number, to: number): void {
  for (const step of c.steps.slice(from, to)) {
    const grads = new Map(Object.keys(step.grad).map((k) => [k, tf.tensor(step.grad[k]!, c.shapes[k]!)]));
    opt.applyGradients(grads, step.lr);
    for (const g of grads.values()) g.dispose();
  }
}

/** Parameters shaped like a small ViT's (matrices, biases, LayerNorm, position, CLS) with seeded values. */
function vitLikeParams(seed: number): Map<string, tf.Variable> {
  const shapes: Record<string, number[]> = {
    cls_token: [1, 1, 8],
    position_embeddings: [1, 5, 8],
    'patch.weight': [8, 12],
    'patch.bias': [8],
    'ln.weight': [8],
    'ln.bias': [8],
    'fc1.weight': [32, 8],
    'fc1.bias': [32],
    'fc2.weight': [8, 32],
    'fc2.bias': [8],
    'head.weight': [3, 8],
    'head.bias': [3],
  };
  return new Map(Object.entries(shapes).map(([k, s], i) => [k, toVar(tf.randomNormal(s, 0, 1, 'float32', seed + i))]));
}
const VIT_DECAY = ['patch.weight', 'fc1.weight', 'fc2.weight', 'head.weight'];

function randomGrads(params: Map<string, tf.Variable>, seed: number): Map<string, tf.Tensor> {
  return new Map([...params].map(([k, p], i) => [k, tf.randomNormal(p.shape, 0, 0.1 + i / 50, 'float32', seed * 1000 + i)]));
}

function stepBoth(opts: { flatChunk?: number }, steps: number, from?: { a: AdamW; b: AdamW; pa: Map<string, tf.Variable>; pb: Map<string, tf.Variable> }) {
  const pa = from?.pa ?? vitLikeParams(7);
  const pb = from?.pb ?? vitLikeParams(7);
  const a = from?.a ?? new AdamW(pa, { weightDecay: 0.05, decay: VIT_DECAY, flat: false });
  const b = from?.b ?? new AdamW(pb, { weightDecay: 0.05, decay: VIT_DECAY, flat: true, ...opts });
  for (let s = 0; s < steps; s++) {
    const lr = 1e-3 * (1 + s) / (2 + s);
    for (const [opt, p] of [[a, pa], [b, pb]] as const) {
      const g = randomGrads(p, s + 1);
      opt.applyGradients(g, lr);
      tf.dispose([...g.values()]);
    }
  }
  return { a, b, pa, pb };
}

describe('flat AdamW equals the per-parameter AdamW bit for bit', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  for (const flatChunk of [undefined, 64, 1]) {
    it(`on ViT-like parameters with a per-element decay mask${flatChunk ? `, chunks of ≤ ${flatChunk} values` : ''}`, () => {
      const start = tf.memory().numTensors;
      const { a, b, pa, pb } = stepBoth({ flatChunk }, 4);
      expect(b.isFlat).toBe(true);
      expect(a.isFlat).toBe(false);
      for (const [k, p] of pa) expect(Array.from(pb.get(k)!.dataSync()), k).toEqual(Array.from(p.dataSync()));
      const sa = a.exportState();
      const sb = b.exportState();
      expect(sb.step).toBe(sa.step);
      expect([...sb.slots.keys()].sort()).toEqual([...sa.slots.keys()].sort());
      for (const [k, v] of sa.slots) expect(Array.from(sb.slots.get(k)!), k).toEqual(Array.from(v));
      a.dispose();
      b.dispose();
      tf.dispose([...pa.values(), ...pb.values()]);
      expect(tf.memory().numTensors).toBe(start);
    });
  }

  it('state moves between the flat and per-parameter layouts (checkpoints stay compatible)', () => {
    const { a, b, pa, pb } = stepBoth({}, 2);
    // Swap the layouts: per-parameter state into a flat optimizer and flat state into a per-parameter one.
    const sa = a.exportState();
    const sb = b.exportState();
    a.dispose();
    b.dispose();
    const a2 = new AdamW(pa, { weightDecay: 0.05, decay: VIT_DECAY, flat: true, flatChunk: 100 });
    const b2 = new AdamW(pb, { weightDecay: 0.05, decay: VIT_DECAY, flat: false });
    a2.importState(sb);
    b2.importState(sa);
    const { a: a3, b: b3 } = stepBoth({}, 3, { a: a2, b: b2, pa, pb });
    for (const [k, p] of pa) expect(Array.from(pb.get(k)!.dataSync()), k).toEqual(Array.from(p.dataSync()));
    expect(a3.stepCount).toBe(5);
    expect(() => a3.importState({ kind: 'adamw', step: 1, slots: new Map([['exp_avg/fc1.bias', new Float32Array(3)], ['exp_avg_sq/fc1.bias', new Float32Array(3)]]) })).toThrow(
      /exp_avg\/fc1.bias': 3 values, expected 32/,
    );
    const partial = new Map([...pa].filter(([k]) => k !== 'head.bias').map(([k, p]) => [k, tf.zerosLike(p)]));
    expect(() => a3.applyGradients(partial, 1e-3)).toThrow(/no gradient for .head.bias./);
    expect(a3.stepCount).toBe(5); // the refused call changed nothing
    tf.dispose([...partial.values()]);
    a3.dispose();
    b3.dispose();
    tf.dispose([...pa.values(), ...pb.values()]);
  });
});

describe('optimizers match torch.optim on reference steps', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  const variants = reference.optimizers.flatMap((c) => (c.name.startsWith('adamw') ? [{ c, flat: false }, { c, flat: true }] : [{ c, flat: false }]));
  for (const { c, flat } of variants) {
    const label = flat ? `${c.name} (flat)` : c.name;
    it(`${label} follows torch's update rule for ${c.steps.length} steps with a changing lr`, () => {
      const params = makeParams(c);
      const opt = makeOptimizer(c, params, flat);
      c.steps.forEach((step, i) => {
        runSteps(c, opt, i, i + 1);
        for (const [k, p] of params) {
          const got = Array.from(p.dataSync());
          for (const [j, v] of got.entries()) expect(v, `${c.name} step ${i + 1} ${k}[${j}]`).toBeCloseTo(step.after[k]![j]!, 6);
        }
      });
      expect(opt.stepCount).toBe(c.steps.length);
      opt.dispose();
      for (const p of params.values()) p.dispose();
    });

    it(`${label} state exported after 2 steps and imported into a fresh optimizer continues identically`, () => {
      const a = makeParams(c);
      const optA = makeOptimizer(c, a, flat);
      runSteps(c, optA, 0, 5);
      const b = makeParams(c);
      const optB0 = makeOptimizer(c, b, flat);
      runSteps(c, optB0, 0, 2);
      const state = optB0.exportState();
      optB0.dispose();
      const optB = makeOptimizer(c, b, flat);
      optB.importState(state);
      runSteps(c, optB, 2, 5);
      for (const [k, p] of a) expect(Array.from(b.get(k)!.dataSync())).toEqual(Array.from(p.dataSync()));
      for (const o of [optA, optB]) o.dispose();
      for (const p of [...a.values(), ...b.values()]) p.dispose();
    });
  }

  for (const flat of [false, true]) {
    it(`keeps tf.memory().numTensors flat across steps once the slots exist${flat ? ' (flat AdamW)' : ''}`, () => {
      const c = reference.optimizers.find((o) => o.name.startsWith('adamw'))!;
      const start = tf.memory().numTensors;
      const params = makeParams(c);
      const opt = makeOptimizer(c, params, flat);
      runSteps(c, opt, 0, 1);
      const before = tf.memory().numTensors;
      runSteps(c, opt, 1, 5);
      expect(tf.memory().numTensors).toBe(before);
      opt.dispose();
      for (const p of params.values()) p.dispose();
      expect(tf.memory().numTensors).toBe(start);
    });
  }

  it('rejects state for a parameter the model lacks, naming the key', () => {
    const c = reference.optimizers[0]!;
    const params = makeParams(c);
    const opt = new AdamW(params);
    expect(() => opt.importState({ kind: 'adamw', step: 1, slots: new Map([['exp_avg/nope', new Float32Array(1)]]) })).toThrow(
      /unexpected key 'exp_avg\/nope'/,
    );
    expect(() => opt.importState({ kind: 'adamw', step: 1, slots: new Map([['exp_avg/w', new Float32Array(3)], ['exp_avg_sq/w', new Float32Array(3)]]) })).toThrow(
      /exp_avg\/w': 3 values, expected 12/,
    );
    expect(() => opt.importState({ kind: 'sgd', step: 1, slots: new Map() })).toThrow(/cannot import 'sgd'/);
    expect(() => new AdamW(params, { beta1: 1 })).toThrow(/beta1 must be in \[0, 1\), got 1/);
    expect(() => new SGD(params, { decay: ['missing'] })).toThrow(/'missing'/);
    opt.dispose();
    for (const p of params.values()) p.dispose();
  });
});

// Last in the file: switches the backend. The flat update's ops are elementwise, so TensorFlow's kernels
// give it the per-parameter update's values too (the path the tensorflow backend uses by default).
describe('flat AdamW on the native tensorflow backend', () => {
  let native = false;
  beforeAll(async () => {
    native = (await initBackend({ prefer: 'tensorflow' }).catch(() => ({ name: 'none' }))).name === 'tensorflow';
  });

  it('equals the per-parameter update bit for bit and is the default there', (ctx) => {
    if (!native) ctx.skip();
    const start = tf.memory().numTensors;
    const { a, b, pa, pb } = stepBoth({}, 3);
    for (const [k, p] of pa) expect(Array.from(pb.get(k)!.dataSync()), k).toEqual(Array.from(p.dataSync()));
    const dflt = new AdamW(pa);
    expect(dflt.isFlat).toBe(true);
    for (const o of [a, b, dflt]) o.dispose();
    tf.dispose([...pa.values(), ...pb.values()]);
    expect(tf.memory().numTensors).toBe(start);
  });
});
