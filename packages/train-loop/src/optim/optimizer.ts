import { tf } from '@vitlens/core';

/** Optimizer state as plain arrays: the step count and one Float32Array per slot variable. */
export interface OptimizerState {
  kind: OptimizerKind;
  /** Number of updates applied so far. */
  step: number;
  /** Slot values keyed `<slot>/<parameter name>`, e.g. `exp_avg/classifier.weight`. */
  slots: Map<string, Float32Array>;
}

export type OptimizerKind = 'adamw' | 'sgd';
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['adamw', 'sgd'];

/** Applies gradients to a model's variables. Implementations tidy per variable to bound memory. */
export interface Optimizer {
  readonly kind: OptimizerKind;
  /** Updates applied so far. */
  readonly stepCount: number;
  /** Apply one update with learning rate `lr`; does not dispose `grads`. */
  applyGradients(grads: Map<string, tf.Tensor>, lr: number): void;
  exportState(): OptimizerState;
  importState(state: OptimizerState): void;
  /** Free the slot variables (not the parameters). */
  dispose(): void;
}

export function checkHyper(owner: string, name: string, value: number, ok: (v: number) => boolean, expected: string): void {
  if (typeof value !== 'number' || !ok(value)) throw new RangeError(`${owner}: ${name} must be ${expected}, got ${value}`);
}

/** Copy `values` into a slot variable, checking the size against its parameter. */
export function assignSlot(owner: string, key: string, slot: tf.Variable, values: Float32Array): void {
  if (values.length !== slot.size) {
    throw new Error(`${owner} state '${key}': ${values.length} values, expected ${slot.size} (shape [${slot.shape.join(', ')}])`);
  }
  tf.tidy(() => slot.assign(tf.tensor(values, slot.shape, 'float32')));
}

/** A non-trainable zero variable shaped like `p` (the temporary zeros are freed). */
export function zeroSlot(p: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(p);
  const slot = tf.variable(zeros, false);
  zeros.dispose();
  return slot;
}
