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

function makeParams(c: Case): Map<string, tf.Variable> {
  return new Map(Object.keys(c.init).map((k) => [k, tf.variable(tf.tensor(c.init[k]!, c.shapes[k]!))]));
}

function makeOptimizer(c: Case, params: Map<string, tf.Variable>): Optimizer {
  // Only 'w' decays: the fixture gives 'b' a weight_decay of 0, as a bias.
  return c.name.startsWith('adamw') ? new AdamW(params, { ...c.hyper, decay: ['w'] }) : new SGD(params, { ...c.hyper, decay: ['w'] });
}

function runSteps(c: Case, opt: Optimizer, from: number, to: number): void {
  for (const step of c.steps.slice(from, to)) {
    const grads = new Map(Object.keys(step.grad).map((k) => [k, tf.tensor(step.grad[k]!, c.shapes[k]!)]));
    opt.applyGradients(grads, step.lr);
    for (const g of grads.values()) g.dispose();
  }
}

describe('optimizers match torch.optim on reference steps', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  for (const c of reference.optimizers) {
    it(`${c.name} follows torch's update rule for ${c.steps.length} steps with a changing lr`, () => {
      const params = makeParams(c);
      const opt = makeOptimizer(c, params);
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

    it(`${c.name} state exported after 2 steps and imported into a fresh optimizer continues identically`, () => {
      const a = makeParams(c);
      const optA = makeOptimizer(c, a);
      runSteps(c, optA, 0, 5);
      const b = makeParams(c);
      const optB0 = makeOptimizer(c, b);
      runSteps(c, optB0, 0, 2);
      const state = optB0.exportState();
      optB0.dispose();
      const optB = makeOptimizer(c, b);
      optB.importState(state);
      runSteps(c, optB, 2, 5);
      for (const [k, p] of a) expect(Array.from(b.get(k)!.dataSync())).toEqual(Array.from(p.dataSync()));
      for (const o of [optA, optB]) o.dispose();
      for (const p of [...a.values(), ...b.values()]) p.dispose();
    });
  }

  it('keeps tf.memory().numTensors flat across steps once the slots exist', () => {
    const c = reference.optimizers[0]!;
    const params = makeParams(c);
    const opt = makeOptimizer(c, params);
    runSteps(c, opt, 0, 1);
    const before = tf.memory().numTensors;
    runSteps(c, opt, 1, 5);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    for (const p of params.values()) p.dispose();
  });

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
