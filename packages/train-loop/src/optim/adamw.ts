import { tf } from '@vitlens/core';
import { type Optimizer, type OptimizerState, assignSlot, checkHyper, zeroSlot } from './optimizer';

export interface AdamWOptions {
  /** Default 0.9 and 0.999, as torch. */
  beta1?: number;
  beta2?: number;
  /** Added outside the square root, as torch. Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay. Default 0.01 (torch's default). */
  weightDecay?: number;
  /** Parameter names that get weight decay; all others get none. Default: every parameter. */
  decay?: Iterable<string>;
}

/**
 * AdamW exactly as `torch.optim.AdamW` (amsgrad off):
 * `p ← p·(1 − lr·wd)`; `m ← β1·m + (1−β1)·g`; `v ← β2·v + (1−β2)·g²`;
 * `p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)`.
 * Each variable is updated in its own `tf.tidy`, so only one parameter's temporaries live at once.
 */
export class AdamW implements Optimizer {
  readonly kind = 'adamw' as const;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decay: Set<string>;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private step = 0;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    opts: AdamWOptions = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    checkHyper('AdamW', 'beta1', this.beta1, (v) => v >= 0 && v < 1, 'in [0, 1)');
    checkHyper('AdamW', 'beta2', this.beta2, (v) => v >= 0 && v < 1, 'in [0, 1)');
    checkHyper('AdamW', 'eps', this.eps, (v) => v > 0, '> 0');
    checkHyper('AdamW', 'weightDecay', this.weightDecay, (v) => v >= 0, '≥ 0');
    this.decay = new Set(opts.decay ?? params.keys());
    for (const name of this.decay) {
      if (!params.has(name)) throw new Error(`AdamW: decay names parameter '${name}', which the model does not have`);
    }
  }

  get stepCount(): number {
    return this.step;
  }

  private slots(name: string, p: tf.Variable): [tf.Variable, tf.Variable] {
    let m = this.m.get(name);
    let v = this.v.get(name);
    if (m === undefined || v === undefined) {
      m = zeroSlot(p);
      v = zeroSlot(p);
      this.m.set(name, m);
      this.v.set(name, v);
    }
    return [m, v];
  }

  applyGradients(grads: Map<string, tf.Tensor>, lr: number): void {
    checkHyper('AdamW', 'lr', lr, (x) => Number.isFinite(x) && x >= 0, 'a finite number ≥ 0');
    this.step += 1;
    const t = this.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** t);
    const stepSize = lr / bc1;
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (p === undefined) throw new Error(`AdamW: gradient for unknown parameter '${name}'`);
      const [m, v] = this.slots(name, p);
      const wd = this.decay.has(name) ? this.weightDecay : 0;
      tf.tidy(() => {
        const decayed = wd > 0 ? tf.mul(p, 1 - lr * wd) : p;
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.mul(g, g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), this.eps);
        m.assign(mNew);
        v.assign(vNew);
        p.assign(tf.sub(decayed, tf.mul(tf.div(mNew, denom), stepSize)));
      });
    }
  }

  exportState(): OptimizerState {
    const slots = new Map<string, Float32Array>();
    for (const [name, m] of this.m) {
      slots.set(`exp_avg/${name}`, new Float32Array(m.dataSync()));
      slots.set(`exp_avg_sq/${name}`, new Float32Array(this.v.get(name)!.dataSync()));
    }
    return { kind: this.kind, step: this.step, slots };
  }

  importState(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new Error(`AdamW: cannot import '${state.kind}' optimizer state`);
    for (const key of state.slots.keys()) {
      const [slot, ...rest] = key.split('/');
      const name = rest.join('/');
      if ((slot !== 'exp_avg' && slot !== 'exp_avg_sq') || !this.params.has(name)) {
        throw new Error(`AdamW state: unexpected key '${key}' (expected exp_avg/<param> or exp_avg_sq/<param> for a model parameter)`);
      }
    }
    for (const [name, p] of this.params) {
      const m = state.slots.get(`exp_avg/${name}`);
      const v = state.slots.get(`exp_avg_sq/${name}`);
      if (m === undefined && v === undefined) continue;
      if (m === undefined || v === undefined) throw new Error(`AdamW state: '${name}' has only one of exp_avg and exp_avg_sq`);
      const [mVar, vVar] = this.slots(name, p);
      assignSlot('AdamW', `exp_avg/${name}`, mVar, m);
      assignSlot('AdamW', `exp_avg_sq/${name}`, vVar, v);
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}
