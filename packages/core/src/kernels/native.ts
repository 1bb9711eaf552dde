import * as tf from '@tensorflow/tfjs-core';
import { FUSED_KERNELS, checkLayerNormShapes, rowsOf } from './fused';

/*
 * The fused ViT kernels (same names and contracts as the wasm ones in ./fused) for the native
 * `tensorflow` backend of @tensorflow/tfjs-node, built from TensorFlow ops run by name through the
 * tfjs-node binding.
 *
 * Why: tfjs-node runs each TF.js op as one TensorFlow eager kernel (~16 µs fixed cost each here), and
 * a composite LayerNorm with its autodiff is ~20 kernels in each direction. TensorFlow has a fused
 * normalisation, `FusedBatchNormV3`: Keras's own LayerNormalization runs on it by viewing the
 * [N, D] rows as the N channels of an NCHW [1, N, D, 1] image, so each row is normalised over its
 * D values. Its gradient op gives dx in one kernel. GELU has no TensorFlow op; its forward and
 * gradient here use TensorFlow's native Erf in a handful of kernels (the composite's autodiff saves
 * and recomputes more).
 *
 * Nothing here imports tfjs-node: the kernels reach the binding through the backend object tfjs
 * passes them.
 */

const BACKEND = 'tensorflow';

/** What these kernels use of tfjs-node's NodeJSKernelBackend (4.22). */
interface NativeBackend {
  binding: {
    TF_ATTR_TYPE: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_STRING: number;
    TF_ATTR_BOOL: number;
    TF_FLOAT: number;
  };
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.TensorInfo[], numOutputs: number): tf.Tensor[];
}

interface OpAttr {
  name: string;
  type: number;
  value: number | string | boolean;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function nativeBackend(args: KernelArgs, kernel: string): NativeBackend {
  const backend = args.backend as unknown as Partial<NativeBackend>;
  if (typeof backend.executeMultipleOutputs !== 'function' || backend.binding === undefined) {
    throw new Error(`${kernel}: the 'tensorflow' backend is not tfjs-node's (no binding to run TensorFlow ops)`);
  }
  return backend as NativeBackend;
}

function requireFloat32(kernel: string, tensors: Record<string, tf.TensorInfo>): void {
  for (const [key, info] of Object.entries(tensors)) {
    if (info.dtype !== 'float32') throw new Error(`${kernel}: input '${key}' must be float32, got ${info.dtype}`);
  }
}

/** Attributes of FusedBatchNormV3 / FusedBatchNormGradV3 in training mode over NCHW channels. */
function batchNormAttrs(b: NativeBackend['binding'], epsilon: number, forward: boolean): OpAttr[] {
  return [
    { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: 'U', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: epsilon },
    ...(forward ? [{ name: 'exponential_avg_factor', type: b.TF_ATTR_FLOAT, value: 1 }] : []),
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NCHW' },
    { name: 'is_training', type: b.TF_ATTR_BOOL, value: true },
  ];
}

/**
 * inputs { x [..., D], gamma [D], beta [D] }, attrs { epsilon } → [y, mean [...], rstd [...]].
 * FusedBatchNormV3 over x viewed as NCHW [1, rows, D, 1] gives x̂, each row's mean and its biased
 * variance (reserve_space_1/2); rstd = 1/√(var + ε).
 */
function layerNorm(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED_KERNELS.layerNorm;
  const { x, gamma, beta } = args.inputs as { x: tf.Tensor; gamma: tf.Tensor1D; beta: tf.Tensor1D };
  requireFloat32(kernel, { x, gamma, beta });
  checkLayerNormShapes(kernel, x, gamma, beta);
  const epsilon = (args.attrs as { epsilon: number }).epsilon;
  const backend = nativeBackend(args, kernel);
  const [rows, depth] = rowsOf(x);
  const lead = x.shape.slice(0, -1);
  return tf.tidy(() => {
    const x4 = tf.reshape(x, [1, rows, depth, 1]); // NCHW: one channel per row
    const ones = tf.ones([rows]);
    const zeros = tf.zeros([rows]);
    const empty = tf.zeros([0]);
    const [xHat, , , mean, variance] = backend.executeMultipleOutputs(
      'FusedBatchNormV3',
      batchNormAttrs(backend.binding, epsilon, true),
      [x4, ones, zeros, empty, empty],
      6,
    ) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const y = tf.add(tf.mul(tf.reshape(xHat, x.shape), gamma), beta);
    const rstd = tf.rsqrt(tf.add(variance, epsilon));
    return [y, tf.reshape(mean, lead), tf.reshape(rstd, lead)];
  });
}

/**
 * inputs { dy, x, mean, rstd, gamma } → [dx, dγ, dβ]. dx from FusedBatchNormGradV3 applied to
 * dx̂ = dy·γ (the variance it needs is 1/rstd² − ε); dγ = Σ dy·x̂, dβ = Σ dy over the rows.
 */
function layerNormGrad(args: KernelArgs): tf.TensorInfo[] {
  const kernel = FUSED_KERNELS.layerNormGrad;
  const { dy, x, mean, rstd, gamma } = args.inputs as Record<'dy' | 'x' | 'mean' | 'rstd' | 'gamma', tf.Tensor>;
  requireFloat32(kernel, { dy: dy!, x: x!, mean: mean!, rstd: rstd!, gamma: gamma! });
  const backend = nativeBackend(args, kernel);
  const [rows, depth] = rowsOf(x!);
  return tf.tidy(() => {
    const dy2 = tf.reshape(dy!, [rows, depth]); // [rows, D]
    const mean1 = tf.reshape(mean!, [rows]);
    const rstd1 = tf.reshape(rstd!, [rows]);
    const variance = tf.reciprocal(tf.square(rstd1)); // = var + ε; the op adds ε back, so pass ε = 0
    const empty = tf.zeros([0]);
    const [dx4] = backend.executeMultipleOutputs(
      'FusedBatchNormGradV3',
      batchNormAttrs(backend.binding, 0, false),
      [tf.reshape(tf.mul(dy2, gamma!), [1, rows, depth, 1]), tf.reshape(x!, [1, rows, depth, 1]), tf.ones([rows]), mean1, variance, empty],
      5,
    ) as [tf.Tensor];
    const xHat = tf.mul(tf.sub(tf.reshape(x!, [rows, depth]), tf.reshape(mean1, [rows, 1])), tf.reshape(rstd1, [rows, 1])); // [rows, D]
    const dGamma = tf.sum(tf.mul(dy2, xHat), 0); // [D]
    const dBeta = tf.sum(dy2, 0); // [D]
    return [tf.reshape(dx4!, x!.shape), dGamma, dBeta];
  });
}

/** inputs { x } → x·Φ(x), Φ(x) = ½(1 + erf(x/√2)), with TensorFlow's native Erf. */
function gelu(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.Tensor };
  requireFloat32(FUSED_KERNELS.gelu, { x });
  return tf.tidy(() => tf.mul(x, normalCdf(x)));
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** inputs { dy, x } → dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π). */
function geluGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, x } = args.inputs as { dy: tf.Tensor; x: tf.Tensor };
  requireFloat32(FUSED_KERNELS.geluGrad, { dy, x });
  return tf.tidy(() => {
    const cdf = normalCdf(x);
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INV_SQRT_2PI);
    return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
  });
}

/**
 * Kernels only the `tensorflow` backend has (the model checks for them by name): a GELU whose forward
 * also returns Φ(x), so its gradient starts from the saved Φ(x) instead of recomputing it (4 of the
 * gradient's 11 TensorFlow ops, one pass over [rows, 4D] each). Same ops on the same values as
 * `gelu`/`geluGrad`, so the same results bit for bit; the cost is Φ(x) kept until the backward pass.
 */
export const NATIVE_KERNELS = {
  /** inputs { x } → [y = x·Φ(x), Φ(x)]. */
  geluWithCdf: 'VitlensNativeGeluWithCdf',
  /** inputs { dy, x, cdf = Φ(x) } → dy·(Φ(x) + x·φ(x)). */
  geluGradFromCdf: 'VitlensNativeGeluGradFromCdf',
  /** inputs { x [..., C], bias [C] } → x + bias, TensorFlow's BiasAdd (a Linear's bias; Add's broadcast costs ~2×). */
  biasAdd: 'VitlensNativeBiasAdd',
} as const;

export type NativeKernelName = (typeof NATIVE_KERNELS)[keyof typeof NATIVE_KERNELS];

function biasAdd(args: KernelArgs): tf.TensorInfo {
  const kernel = NATIVE_KERNELS.biasAdd;
  const { x, bias } = args.inputs as { x: tf.Tensor; bias: tf.Tensor };
  requireFloat32(kernel, { x, bias });
  if (bias.rank !== 1 || x.rank < 2 || x.shape[x.rank - 1] !== bias.shape[0]) {
    throw new Error(`${kernel}: bias [${bias.shape}] does not match the last axis of x [${x.shape}]`);
  }
  const backend = nativeBackend(args, kernel);
  const b = backend.binding;
  const attrs: OpAttr[] = [
    { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' }, // bias on the last axis
  ];
  return backend.executeMultipleOutputs('BiasAdd', attrs, [x, bias], 1)[0]!;
}

/** Φ(x) = ½(1 + erf(x/√2)): the ops `gelu` and `geluGrad` use. */
function normalCdf(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);
}

function geluWithCdf(args: KernelArgs): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.Tensor };
  requireFloat32(NATIVE_KERNELS.geluWithCdf, { x });
  return tf.tidy(() => {
    const cdf = normalCdf(x);
    return [tf.mul(x, cdf), cdf];
  });
}

function geluGradFromCdf(args: KernelArgs): tf.TensorInfo {
  const { dy, x, cdf } = args.inputs as { dy: tf.Tensor; x: tf.Tensor; cdf: tf.Tensor };
  requireFloat32(NATIVE_KERNELS.geluGradFromCdf, { dy, x, cdf });
  return tf.tidy(() => {
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INV_SQRT_2PI);
    return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
  });
}

const NATIVE: readonly [string, tf.KernelFunc][] = [
  [NATIVE_KERNELS.geluWithCdf, geluWithCdf as unknown as tf.KernelFunc],
  [NATIVE_KERNELS.geluGradFromCdf, geluGradFromCdf as unknown as tf.KernelFunc],
  [NATIVE_KERNELS.biasAdd, biasAdd as unknown as tf.KernelFunc],
  [FUSED_KERNELS.layerNorm, layerNorm as unknown as tf.KernelFunc],
  [FUSED_KERNELS.layerNormGrad, layerNormGrad as unknown as tf.KernelFunc],
  [FUSED_KERNELS.gelu, gelu as unknown as tf.KernelFunc],
  [FUSED_KERNELS.geluGrad, geluGrad as unknown as tf.KernelFunc],
];

/** Register the fused kernels on the `tensorflow` backend (idempotent). */
export function registerNativeKernels(): void {
  for (const [kernelName, kernelFunc] of NATIVE) {
    if (tf.getKernel(kernelName, BACKEND) === undefined) tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
  }
}

/** Remove them again: the model falls back to composite ops (`VITLENS_FAST_KERNELS=0`). */
export function unregisterNativeKernels(): void {
  for (const [kernelName] of NATIVE) {
    if (tf.getKernel(kernelName, BACKEND) !== undefined) tf.unregisterKernel(kernelName, BACKEND);
  }
}
