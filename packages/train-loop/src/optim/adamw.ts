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
  /**
   * Update the parameters as flat vectors (the parameters concatenated, in chunks of at most
   * `flatChunk` values) instead of one at a time: ~13 ops per chunk instead of ~13 per parameter,
   * the same values bit for bit (every op is elementwise). Default: on for the `tensorflow` backend
   * only, where each op costs a fixed ~18 µs of dispatch (vit-mini: 1,390 ops, 25 ms → ~8 ms a step);
   * on cpu and wasm an op's fixed cost is small and the concatenation and split are extra copies.
   * Needs a gradient for every parameter of a chunk at each step (as the trainer gives).
   */
  flat?: boolean;
  /** Most values in one flat chunk (bounds the update's temporaries). Default 4,194,304 (16 MiB). */
  flatChunk?: number;
}

/** Parameters updated together as one flat vector, with their AdamW slots stored flat. */
interface FlatChunk {
  names: string[];
  params: tf.Variable[];
  sizes: number[];
  offsets: number[];
  total: number;
  /** Per element: 1 where the parameter gets weight decay; null when all or none of them do. */
  decayMask: Uint8Array | null;
  /** `decayMask` as a bool tensor, made on first use. */
  mask: tf.Tensor | null;
  /** Whether every parameter of the chunk decays (meaningful when mask is null). */
  allDecay: boolean;
  m: tf.Variable | null;
  v: tf.Variable | null;
}

/**
 * AdamW exactly as `torch.optim.AdamW` (amsgrad off):
 * `p ← p·(1 − lr·wd)`; `m ← β1·m + (1−β1)·g`; `v ← β2·v + (1−β2)·g²`;
 * `p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)`.
 * Per parameter, each variable is updated in its own `tf.tidy`, so only one parameter's temporaries live
 * at once; flat (`opts.flat`), one chunk's. The state exported is per parameter either way.
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
  /** Flat mode's chunks; null in per-parameter mode. */
  private readonly chunks: FlatChunk[] | null;

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
    const flat = opts.flat ?? tf.getBackend() === 'tensorflow';
    const flatChunk = opts.flatChunk ?? 4 * 1024 * 1024;
    checkHyper('AdamW', 'flatChunk', flatChunk, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
    this.chunks = flat ? this.makeChunks(flatChunk) : null;
  }

  /** Whether parameters are updated as flat vectors. */
  get isFlat(): boolean {
    return this.chunks !== null;
  }

  private makeChunks(limit: number): FlatChunk[] {
    const groups: [string, tf.Variable][][] = [];
    let current: [string, tf.Variable][] = [];
    let size = 0;
    for (const entry of this.params) {
      if (current.length > 0 && size + entry[1].size > limit) {
        groups.push(current);
        current = [];
        size = 0;
      }
      current.push(entry);
      size += entry[1].size;
    }
    if (current.length > 0) groups.push(current);
    return groups.map((group) => {
      const names = group.map(([n]) => n);
      const params = group.map(([, p]) => p);
      const sizes = params.map((p) => p.size);
      const offsets: number[] = [];
      let total = 0;
      for (const n of sizes) {
        offsets.push(total);
        total += n;
      }
      const decays = names.map((n) => this.decay.has(n));
      const allDecay = decays.every((d) => d);
      let decayMask: Uint8Array | null = null;
      if (!allDecay && decays.some((d) => d)) {
        decayMask = new Uint8Array(total);
        decays.forEach((d, i) => {
          if (d) decayMask!.fill(1, offsets[i]!, offsets[i]! + sizes[i]!);
        });
      }
      return { names, params, sizes, offsets, total, decayMask, mask: null, allDecay, m: null, v: null };
    });
  }

  private chunkSlots(c: FlatChunk): [tf.Variable, tf.Variable] {
    if (c.m === null || c.v === null) {
      c.m = flatSlot(new Float32Array(c.total));
      c.v = flatSlot(new Float32Array(c.total));
    }
    return [c.m, c.v];
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
    if (this.chunks !== null) this.checkFlatGrads(this.chunks, grads);
    this.step += 1;
    const t = this.step;
    const bc1 = 1 - this.beta1 ** t;
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** t);
    const stepSize = lr / bc1;
    if (this.chunks !== null) {
      this.applyFlat(this.chunks, grads, lr, bc2Sqrt, stepSize);
      return;
    }
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

  /** Checked before anything is updated (the step count included), so a bad call changes nothing. */
  private checkFlatGrads(chunks: FlatChunk[], grads: Map<string, tf.Tensor>): void {
    for (const name of grads.keys()) {
      if (!this.params.has(name)) throw new Error(`AdamW: gradient for unknown parameter '${name}'`);
    }
    for (const c of chunks) {
      const missing = c.names.filter((n) => !grads.has(n));
      if (missing.length > 0 && missing.length < c.names.length) {
        throw new Error(`AdamW (flat): no gradient for '${missing[0]}' (flat updates need every parameter's; construct with flat: false)`);
      }
    }
  }

  /** The same ops as the per-parameter update, on each chunk's parameters concatenated. */
  private applyFlat(chunks: FlatChunk[], grads: Map<string, tf.Tensor>, lr: number, bc2Sqrt: number, stepSize: number): void {
    for (const c of chunks) {
      const gs = c.names.map((n) => grads.get(n));
      if (gs.every((g) => g === undefined)) continue;
      const [m, v] = this.chunkSlots(c);
      const wd = this.weightDecay;
      tf.tidy(() => {
        // A reshape is an op too (on tensorflow, a TF op and a shape upload): 1-D tensors skip it.
        const vec = (t: tf.Tensor): tf.Tensor => (t.rank === 1 ? t : tf.reshape(t, [-1]));
        const flatten = (ts: tf.Tensor[]): tf.Tensor => (ts.length === 1 ? vec(ts[0]!) : tf.concat(ts.map(vec)));
        const unvec = (t: tf.Tensor, like: tf.Variable): tf.Tensor => (like.rank === 1 ? t : tf.reshape(t, like.shape));
        const g = flatten(gs as tf.Tensor[]);
        const p = flatten(c.params);
        let decayed = p;
        if (wd > 0 && c.decayMask !== null) {
          // 1 where a parameter does not decay: x·1 = x exactly, as the per-parameter update's skipped multiply.
          c.mask ??= tf.keep(tf.tensor1d(c.decayMask, 'bool'));
          decayed = tf.mul(p, tf.where(c.mask, tf.scalar(1 - lr * wd), tf.scalar(1)));
        } else if (wd > 0 && c.allDecay) decayed = tf.mul(p, 1 - lr * wd);
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.mul(g, g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), this.eps);
        m.assign(mNew);
        v.assign(vNew);
        const pNew = tf.sub(decayed, tf.mul(tf.div(mNew, denom), stepSize));
        if (c.params.length === 1) {
          c.params[0]!.assign(unvec(pNew, c.params[0]!));
        } else {
          const parts = tf.split(pNew, c.sizes);
          for (const [i, param] of c.params.entries()) param.assign(unvec(parts[i]!, param));
        }
      });
    }
  }

  exportState(): OptimizerState {
    const slots = new Map<string, Float32Array>();
    if (this.chunks !== null) {
      for (const c of this.chunks) {
        if (c.m === null || c.v === null) continue;
        const m = c.m.dataSync() as Float32Array;
        const v = c.v.dataSync() as Float32Array;
        c.names.forEach((name, i) => {
          const [a, z] = [c.offsets[i]!, c.offsets[i]! + c.sizes[i]!];
          slots.set(`exp_avg/${name}`, m.slice(a, z));
          slots.set(`exp_avg_sq/${name}`, v.slice(a, z));
        });
      }
      return { kind: this.kind, step: this.step, slots };
    }
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
    if (this.chunks !== null) {
      this.importFlat(this.chunks, state);
      this.step = state.step;
      return;
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

  /** Per-parameter state into the flat slots; a parameter without state gets zeros, as a new slot. */
  private importFlat(chunks: FlatChunk[], state: OptimizerState): void {
    const staged: [FlatChunk, Float32Array, Float32Array][] = [];
    for (const c of chunks) {
      const m = new Float32Array(c.total);
      const v = new Float32Array(c.total);
      let any = false;
      c.names.forEach((name, i) => {
        const mi = state.slots.get(`exp_avg/${name}`);
        const vi = state.slots.get(`exp_avg_sq/${name}`);
        if (mi === undefined && vi === undefined) return;
        if (mi === undefined || vi === undefined) throw new Error(`AdamW state: '${name}' has only one of exp_avg and exp_avg_sq`);
        const shape = c.params[i]!.shape;
        for (const [key, values] of [[`exp_avg/${name}`, mi], [`exp_avg_sq/${name}`, vi]] as const) {
          if (values.length !== c.sizes[i]) {
            throw new Error(`AdamW state '${key}': ${values.length} values, expected ${c.sizes[i]} (shape [${shape.join(', ')}])`);
          }
        }
        m.set(mi, c.offsets[i]);
        v.set(vi, c.offsets[i]);
        any = true;
      });
      if (any) staged.push([c, m, v]);
    }
    for (const [c, m, v] of staged) {
      const [mVar, vVar] = this.chunkSlots(c);
      tf.tidy(() => {
        mVar.assign(tf.tensor1d(m, 'float32'));
        vVar.assign(tf.tensor1d(v, 'float32'));
      });
    }
  }

  dispose(): void {
    if (this.chunks !== null) {
      for (const c of this.chunks) {
        for (const x of [c.m, c.v, c.mask]) x?.dispose();
        c.m = null;
        c.v = null;
        c.mask = null;
      }
    }
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/** A non-trainable flat variable holding `values` (the temporary tensor is freed). */
function flatSlot(values: Float32Array): tf.Variable {
  const t = tf.tensor1d(values, 'float32');
  const slot = tf.variable(t, false);
  t.dispose();
  return slot;
}
