import { tf } from '@vitlens/core';

/**
 * An exponential moving average of the model's weights (Polyak averaging, as timm's `ModelEmaV2`
 * and TensorFlow's `ExponentialMovingAverage`): after every optimizer step
 *   shadow ← d·shadow + (1 − d)·weight,  d = min(decay, (1 + n)/(10 + n))
 * where n counts the updates so far, so the average does not start pinned to the initial weights.
 * Evaluated and saved beside the raw weights; for short runs it often generalises better.
 */
export class WeightAverage {
  /** Shadow copies, keyed like the model's parameters. */
  readonly shadow: Map<string, tf.Variable>;
  private count: number;

  constructor(
    params: ReadonlyMap<string, tf.Variable>,
    readonly decay: number,
    updates = 0,
  ) {
    if (!(decay > 0 && decay < 1)) throw new RangeError(`WeightAverage: decay must be in (0, 1), got ${decay}`);
    this.shadow = new Map([...params].map(([name, v]) => [name, tf.variable(v, false, `ema/${name}`)]));
    this.count = updates;
  }

  /** Updates applied so far (saved with a checkpoint so a resumed run continues the same average). */
  get updates(): number {
    return this.count;
  }

  /** The decay of the next update. */
  currentDecay(): number {
    return Math.min(this.decay, (1 + this.count) / (10 + this.count));
  }

  /** Fold the current weights into the average. */
  update(params: ReadonlyMap<string, tf.Variable>): void {
    const d = this.currentDecay();
    tf.tidy(() => {
      for (const [name, average] of this.shadow) {
        const weight = params.get(name);
        if (weight === undefined) throw new Error(`WeightAverage: the model has no parameter '${name}'`);
        // d·a + (1 − d)·w = a + (1 − d)·(w − a)
        average.assign(tf.add(average, tf.mul(tf.sub(weight, average), 1 - d)));
      }
    });
    this.count++;
  }

  /** Replace the average (e.g. from a checkpoint's EMA weights). */
  load(values: ReadonlyMap<string, tf.Tensor>, updates: number): void {
    for (const [name, average] of this.shadow) {
      const value = values.get(name);
      if (value === undefined) throw new Error(`WeightAverage: the saved average has no '${name}'`);
      if (value.shape.join(',') !== average.shape.join(',')) {
        throw new Error(`WeightAverage: saved '${name}' is [${value.shape}], the model's is [${average.shape}]`);
      }
      average.assign(value);
    }
    this.count = updates;
  }

  /**
   * Run `fn` with the averaged weights in the model's parameters, then put the raw weights back
   * (also when `fn` throws).
   */
  async withAveragedWeights<T>(params: ReadonlyMap<string, tf.Variable>, fn: () => Promise<T>): Promise<T> {
    const raw = new Map([...params].map(([name, v]) => [name, tf.clone(v)]));
    try {
      for (const [name, average] of this.shadow) params.get(name)!.assign(average);
      return await fn();
    } finally {
      for (const [name, value] of raw) params.get(name)!.assign(value);
      tf.dispose([...raw.values()]);
    }
  }

  dispose(): void {
    tf.dispose([...this.shadow.values()]);
    this.shadow.clear();
  }
}
