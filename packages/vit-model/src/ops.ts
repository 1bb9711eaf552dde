import { FUSED_KERNELS, NATIVE_KERNELS, type Rng, fusedKernel, tf } from '@vitlens/core';

/*
 * Building blocks whose forward AND backward passes use only kernels that are fast (or present)
 * on the wasm backend: plain 2-D non-transposed matMul, explicit transposes, reshapes.
 */

type GradSave = (tensors: tf.Tensor[]) => void;
type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/**
 * y = x·Wᵀ + b for x [N, in], W [out, in] (PyTorch / HF layout), b [out].
 * The transposes are explicit so every matMul is a plain 2-D one (XNNPACK's fast path on wasm):
 * dX = dY·W, dW = dYᵀ·X, db = Σ_N dY (= 1ᵀ·dY).
 */
const linearWithBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: GradSave) => {
  save([x, w]);
  const value = tf.tidy(() => tf.add(tf.matMul(x, tf.transpose(w)), b));
  return {
    value,
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        // db = 1ᵀ·dY as a [1, N]×[N, out] matMul: on wasm a column Sum transposes dY first (~3× slower).
        const db = tf.reshape(tf.matMul(tf.ones([1, dy.shape[0]]), dy), [dy.shape[1]]); // [out]
        return [tf.matMul(dy, ws), tf.matMul(tf.transpose(dy), xs), db];
      }),
  };
}) as unknown as CustomGradFn) as unknown as (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
) => tf.Tensor2D;

/** y = x·Wᵀ for layers without a bias (`qkv_bias: false`). */
const linearNoBias = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: GradSave) => {
  save([x, w]);
  const value = tf.tidy(() => tf.matMul(x, tf.transpose(w)));
  return {
    value,
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy, ws), tf.matMul(tf.transpose(dy), xs)];
      }),
  };
}) as unknown as CustomGradFn) as unknown as (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
) => tf.Tensor2D;

/**
 * y = x·Wᵀ + b on backends with fast transposed and fused products (tensorflow, cpu, webgl,
 * webgpu): one fused matMul + bias kernel forward (TensorFlow's `_FusedMatMul`), and transposed
 * operands instead of explicit transposes backward: dX = dY·W, dW = dYᵀ·X, db = Σ_N dY.
 */
const linearFused = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: GradSave) => {
  save([x, w]);
  return {
    // tensorflow: the product, then TensorFlow's BiasAdd (the same sum as _FusedMatMul's broadcasting Add).
    value:
      fusedKernel(NATIVE_KERNELS.biasAdd)
        ? tf.tidy(() => tf.engine().runKernel(NATIVE_KERNELS.biasAdd, { x: tf.matMul(x, w, false, true), bias: b }) as tf.Tensor2D)
        : tf.fused.matMul({ a: x, b: w, transposeB: true, bias: b }),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy, ws), tf.matMul(dy, xs, true, false), tf.sum(dy, 0)];
      }),
  };
}) as unknown as CustomGradFn) as unknown as (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D,
) => tf.Tensor2D;

/**
 * On wasm only plain 2-D products take the fast kernel (XNNPACK / vitlens's SIMD kernel), so the
 * wasm path transposes explicitly; elsewhere the fused, transposed products are faster.
 */
const plainProductsOnly = (): boolean => tf.getBackend() === 'wasm';

/** A Linear layer on any leading shape: x [..., in] → [..., out]; W [out, in] as HF stores it. */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const inFeatures = w.shape[1];
  const outFeatures = w.shape[0];
  const lead = x.shape.slice(0, -1);
  const x2d = tf.reshape(x, [-1, inFeatures]) as tf.Tensor2D; // [N, in]
  const y2d = b ? (plainProductsOnly() ? linearWithBias(x2d, w, b) : linearFused(x2d, w, b)) : linearNoBias(x2d, w); // [N, out]
  return tf.reshape(y2d, [...lead, outFeatures]);
}

/**
 * The patch embedding, i.e. HF's Conv2d(3, hidden, kernel = stride = p), as reshape + transpose +
 * one matMul, so it trains on wasm (no Conv2DBackpropFilter there).
 * pixels [B, H, W, 3] (NHWC), weight [hidden, 3, p, p] (HF/PyTorch OIHW), bias [hidden]
 * → [B, (H/p)·(W/p), hidden], patches in row-major grid order as HF's `flatten(2).transpose(1, 2)`.
 */
export function patchEmbed(pixels: tf.Tensor4D, weight: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor3D {
  const [batch, height, width, channels] = pixels.shape;
  const [hidden, , p] = weight.shape;
  const gh = height / p;
  const gw = width / p;
  const grid = tf.reshape(pixels, [batch, gh, p, gw, p, channels]); // [B, gh, p, gw, p, C]
  const patches = tf.transpose(grid, [0, 1, 3, 5, 2, 4]); // [B, gh, gw, C, p, p]: (c, kh, kw) order as OIHW
  const rows = tf.reshape(patches, [batch * gh * gw, channels * p * p]); // [B·N, C·p·p]
  const w2d = tf.reshape(weight, [hidden, channels * p * p]) as tf.Tensor2D; // [hidden, C·p·p]
  return tf.reshape(linear(rows, w2d, bias), [batch, gh * gw, hidden]) as tf.Tensor3D;
}

/** LayerNorm over the last axis (biased variance, as torch). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  if (fusedKernel(FUSED_KERNELS.layerNorm)) return fusedLayerNorm(eps)(x, gamma, beta);
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

/** One custom-gradient LayerNorm per epsilon (customGrad functions take tensors only). */
const fusedLayerNorms = new Map<number, (x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor>();

/**
 * LayerNorm as one fused kernel forward (which also returns each row's mean and 1/std) and one
 * backward (dx, dγ, dβ): on wasm this replaces ~10 kernels and their autodiff (@vitlens/core kernels).
 */
function fusedLayerNorm(eps: number): (x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor {
  let fn = fusedLayerNorms.get(eps);
  if (fn === undefined) {
    fn = tf.customGrad(((x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, save: GradSave) => {
      const [y, mean, rstd] = tf.engine().runKernel(FUSED_KERNELS.layerNorm, { x, gamma, beta }, { epsilon: eps }) as tf.Tensor[];
      save([x, gamma, mean!, rstd!]); // mean, rstd: [...lead]
      return {
        value: y!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, g, m, s] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor, tf.Tensor];
          return tf.engine().runKernel(FUSED_KERNELS.layerNormGrad, { dy, x: xs, mean: m, rstd: s, gamma: g }) as tf.Tensor[]; // [dx, dγ, dβ]
        },
      };
    }) as unknown as CustomGradFn) as unknown as (x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor;
    fusedLayerNorms.set(eps, fn);
  }
  return fn;
}

/** Exact GELU: x·½·(1 + erf(x/√2)) (HF `hidden_act: "gelu"`). */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (fusedKernel(FUSED_KERNELS.gelu)) {
    // Recording gradients on tensorflow: its GELU also returns Φ(x), saved for the backward pass.
    if (tf.engine().isTapeOn() && fusedKernel(NATIVE_KERNELS.geluWithCdf)) return geluSavingCdf(x);
    return fusedGelu(x);
  }
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** GELU as one fused kernel each way: dx = dy·(Φ(x) + x·φ(x)). */
const fusedGelu = tf.customGrad(((x: tf.Tensor, save: GradSave) => {
  save([x]);
  return {
    value: tf.engine().runKernel(FUSED_KERNELS.gelu, { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(FUSED_KERNELS.geluGrad, { dy, x: saved[0]! }) as tf.Tensor,
  };
}) as unknown as CustomGradFn) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * GELU whose backward starts from the forward's Φ(x) (same values as `fusedGelu`, fewer ops): keeps
 * one more tensor the size of x per GELU until the backward pass.
 */
const geluSavingCdf = tf.customGrad(((x: tf.Tensor, save: GradSave) => {
  const [y, cdf] = tf.engine().runKernel(NATIVE_KERNELS.geluWithCdf, { x }) as tf.Tensor[];
  save([x, cdf!]);
  return {
    value: y!,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(NATIVE_KERNELS.geluGradFromCdf, { dy, x: saved[0]!, cdf: saved[1]! }) as tf.Tensor,
  };
}) as unknown as CustomGradFn) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * Stochastic depth's per-image mask `[batch, 1, 1]`, drawn from `rng`: 0 (the residual branch is
 * skipped for that image) with probability `rate`, else `1 / (1 − rate)` so the expected branch
 * output is unchanged. Broadcasts over a branch's `[batch, T, hidden]` output.
 */
export function dropPathMask(batch: number, rate: number, rng: Rng): tf.Tensor3D {
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(batch);
  for (let b = 0; b < batch; b++) mask[b] = rng.next() < rate ? 0 : scale;
  return tf.tensor3d(mask, [batch, 1, 1], 'float32');
}

/**
 * Inverted dropout with a mask drawn from `rng` (so it is reproducible and the same on every
 * backend): kept elements are scaled by 1/(1 − rate).
 */
export function dropout(x: tf.Tensor, rate: number, rng: Rng): tf.Tensor {
  if (rate <= 0) return x;
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < rate ? 0 : scale;
  return tf.mul(x, tf.tensor(mask, x.shape, 'float32'));
}
