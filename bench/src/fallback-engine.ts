import { tf } from '@vitlens/core';

/** The parts of the model a gradient step needs (ViTForImageClassification satisfies it). */
export interface StepModel {
  readonly params: Map<string, tf.Variable>;
  forward(x: tf.Tensor4D, opts?: { training?: boolean; seed?: number }): { logits: tf.Tensor2D };
}

/**
 * Used only while `@vitlens/train-loop` has no LocalGradientEngine: mean softmax cross-entropy
 * through `tf.variableGrads`, micro-batches summed with weights n_i / B. Same work as the engine.
 */
export class VariableGradsEngine {
  constructor(
    private readonly model: StepModel,
    private readonly microBatchSize: number,
    private readonly numClasses: number,
  ) {}

  async computeGradients(batch: { images: Float32Array; shape: [number, number, number, number]; labels: Int32Array }) {
    const [b, h, w, c] = batch.shape;
    const entries = [...this.model.params].filter(([, v]) => v.trainable);
    const vars = entries.map(([, v]) => v);
    // variableGrads keys by tf's variable name; the optimizer wants the checkpoint names.
    const keyOf = new Map(entries.map(([k, v]) => [v.name, k]));
    const sums = new Map<string, tf.Tensor>();
    let loss = 0;
    for (let start = 0; start < b; start += this.microBatchSize) {
      const n = Math.min(this.microBatchSize, b - start);
      const x = tf.tensor4d(batch.images.subarray(start * h * w * c, (start + n) * h * w * c), [n, h, w, c]);
      const y = tf.oneHot(tf.tensor1d(batch.labels.subarray(start, start + n), 'int32'), this.numClasses);
      const { value, grads } = tf.variableGrads(() => {
        const { logits } = this.model.forward(x, { training: true });
        return tf.mul(tf.losses.softmaxCrossEntropy(y, logits), n / b) as tf.Scalar;
      }, vars);
      loss += (await value.data())[0] as number;
      value.dispose();
      x.dispose();
      y.dispose();
      for (const [varName, g] of Object.entries(grads)) {
        const name = keyOf.get(varName) ?? varName;
        const prev = sums.get(name);
        if (prev === undefined) sums.set(name, g);
        else {
          sums.set(name, tf.add(prev, g));
          prev.dispose();
          g.dispose();
        }
      }
    }
    return { loss, grads: sums };
  }

  weightsUpdated(): Promise<void> {
    return Promise.resolve();
  }

  dispose(): void {}
}
