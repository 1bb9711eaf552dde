import { tf } from '@vitlens/core';
import { type Optimizer, type OptimizerState, assignSlot, checkHyper, zeroSlot } from './optimizer';

export interface SGDOptions {
  /** Default 0.9 (the ViT paper's fine-tuning recipe); 0 disables the buffer. */
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient (coupled, as torch.optim.SGD). Default 0. */
  weightDecay?: number;
  /** Parameter names that get weight decay; all others get none. Default: every parameter. */
  decay?: Iterable<string>;
}

/**
 * SGD as `torch.optim.SGD`: `g ← g + wd·p`; `b ← g` on the first step, then `b ← μ·b + (1−τ)·g`;
 * `g ← g + μ·b` (nesterov) or `g ← b`; `p ← p − lr·g`. Tidied per variable.
 */
export class SGD implements Optimizer {
  readonly kind = 'sgd' as const;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private readonly decay: Set<string>;
  private readonly buffers = new Map<string, tf.Variable>();
  private step = 0;

  constructor(
    private readonly params: Map<string, tf.Variable>,
    opts: SGDOptions = {},
  ) {
    this.momentum = opts.momentum ?? 0.9;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    checkHyper('SGD', 'momentum', this.momentum, (v) => v >= 0 && v < 1, 'in [0, 1)');
    checkHyper('SGD', 'dampening', this.dampening, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    checkHyper('SGD', 'weightDecay', this.weightDecay, (v) => v >= 0, '≥ 0');
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: nesterov needs momentum > 0 and dampening 0 (as torch)');
    }
    this.decay = new Set(opts.decay ?? params.keys());
    for (const name of this.decay) {
      if (!params.has(name)) throw new Error(`SGD: decay names parameter '${name}', which the model does not have`);
    }
  }

  get stepCount(): number {
    return this.step;
  }

  applyGradients(grads: Map<string, tf.Tensor>, lr: number): void {
    checkHyper('SGD', 'lr', lr, (x) => Number.isFinite(x) && x >= 0, 'a finite number ≥ 0');
    this.step += 1;
    for (const [name, grad] of grads) {
      const p = this.params.get(name);
      if (p === undefined) throw new Error(`SGD: gradient for unknown parameter '${name}'`);
      const wd = this.decay.has(name) ? this.weightDecay : 0;
      const buf = this.buffers.get(name);
      const newBuffer = tf.tidy(() => {
        let g: tf.Tensor = wd > 0 ? tf.add(grad, tf.mul(p, wd)) : grad;
        let fresh: tf.Tensor | undefined;
        if (this.momentum > 0) {
          let b: tf.Tensor;
          if (buf === undefined) {
            fresh = tf.clone(g);
            b = fresh;
          } else {
            b = tf.add(tf.mul(buf, this.momentum), tf.mul(g, 1 - this.dampening));
            buf.assign(b);
          }
          g = this.nesterov ? tf.add(g, tf.mul(b, this.momentum)) : b;
        }
        p.assign(tf.sub(p, tf.mul(g, lr)));
        return fresh;
      });
      if (newBuffer !== undefined) {
        this.buffers.set(name, tf.variable(newBuffer, false));
        newBuffer.dispose();
      }
    }
  }

  exportState(): OptimizerState {
    const slots = new Map<string, Float32Array>();
    for (const [name, b] of this.buffers) slots.set(`momentum_buffer/${name}`, new Float32Array(b.dataSync()));
    return { kind: this.kind, step: this.step, slots };
  }

  importState(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new Error(`SGD: cannot import '${state.kind}' optimizer state`);
    for (const [key, values] of state.slots) {
      const name = key.startsWith('momentum_buffer/') ? key.slice('momentum_buffer/'.length) : undefined;
      const p = name === undefined ? undefined : this.params.get(name);
      if (name === undefined || p === undefined) {
        throw new Error(`SGD state: unexpected key '${key}' (expected momentum_buffer/<param> for a model parameter)`);
      }
      let buf = this.buffers.get(name);
      if (buf === undefined) {
        buf = zeroSlot(p);
        this.buffers.set(name, buf);
      }
      assignSlot('SGD', key, buf, values);
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
