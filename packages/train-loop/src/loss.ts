import { tf } from '@vitlens/core';

/** What a loss compares the logits with: hard labels, or soft targets from mixup/cutmix. */
export interface LossTarget {
  /** `[B]` class indices. */
  labels?: Int32Array | undefined;
  /** `[B, C]` row-stochastic soft targets; used instead of `labels` when present. */
  targets?: Float32Array | undefined;
}

function targetDistribution(target: LossTarget, batch: number, numClasses: number, labelSmoothing: number): tf.Tensor2D {
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  }
  let t: tf.Tensor2D;
  if (target.targets !== undefined) {
    if (target.targets.length !== batch * numClasses) {
      throw new Error(`crossEntropy: targets has ${target.targets.length} values, expected [${batch}, ${numClasses}] = ${batch * numClasses}`);
    }
    t = tf.tensor2d(target.targets, [batch, numClasses]);
  } else if (target.labels !== undefined) {
    if (target.labels.length !== batch) {
      throw new Error(`crossEntropy: ${target.labels.length} labels for a batch of ${batch} logits`);
    }
    for (const label of target.labels) {
      if (!(label >= 0 && label < numClasses)) {
        throw new RangeError(`crossEntropy: label ${label} is outside 0..${numClasses - 1}`);
      }
    }
    t = tf.cast(tf.oneHot(tf.tensor1d(target.labels, 'int32'), numClasses), 'float32') as tf.Tensor2D;
  } else {
    throw new Error('crossEntropy: give labels or targets');
  }
  // torch: smoothed = (1 - ε)·target + ε / C, for class indices and probabilities alike.
  if (labelSmoothing > 0) t = tf.add(tf.mul(t, 1 - labelSmoothing), labelSmoothing / numClasses);
  return t;
}

/**
 * Per-example cross-entropy `[B]` between `logits [B, C]` and the target, with label smoothing as
 * `torch.nn.functional.cross_entropy(..., reduction='none', label_smoothing=ε)`.
 */
export function crossEntropyPerExample(logits: tf.Tensor2D, target: LossTarget, labelSmoothing = 0): tf.Tensor1D {
  return tf.tidy(() => {
    const [batch, numClasses] = logits.shape;
    const t = targetDistribution(target, batch, numClasses, labelSmoothing);
    const logp = tf.logSoftmax(logits); // [B, C]
    return tf.neg(tf.sum(tf.mul(t, logp), 1)) as tf.Tensor1D;
  });
}

/** Mean cross-entropy over the batch (a scalar), torch semantics; differentiable w.r.t. `logits`. */
export function crossEntropy(logits: tf.Tensor2D, target: LossTarget, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => tf.mean(crossEntropyPerExample(logits, target, labelSmoothing)) as tf.Scalar);
}
