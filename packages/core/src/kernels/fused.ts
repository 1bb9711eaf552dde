import * as tf from '@tensorflow/tfjs-core';
import { kernelFor, type WasmBackendLike } from './batch-matmul';
import type { NativeKernelName } from './native';

/*
 * Fused ViT kernels for the wasm backend, on the backend's own heap: WebAssembly SIMD from the
 * module in scripts/bmm.wat where it can import the backend's memory, the same math in JS elsewhere.
 *
 * Why: tfjs-backend-wasm computes Erf and Exp with scalar libm calls (~13 and ~6 ns per element on
 * the project's machine), and a composite LayerNorm or GELU is 5–10 kernels whose autodiff saves a
 * copy of every input. On vit-tiny-patch4-32 at batch 32 the composite GELU (forward + backward) and
 * LayerNorm took ~1.2 s of a ~3 s training step; these kernels do each in one or two passes.
 *
 * The model (`@vitlens/vit-model`) asks `fusedKernel(name)` and falls back to the composite ops on a
 * backend without them (cpu, webgl, webgpu, tensorflow), so every backend keeps working and the
 * cpu tests keep checking the composite path against the same golden fixtures.
 */

/** Names of the fused kernels, as registered with tfjs (`tf.engine().runKernel(name, …)`). */
export const FUSED_KERNELS = {
  /** inputs { x }: y = x·Φ(x), the exact (erf) GELU. */
  gelu: 'VitlensGelu',
  /** inputs { dy, x }: dx = dy·(Φ(x) + x·φ(x)). */
  geluGrad: 'VitlensGeluGrad',
  /** inputs { x, gamma, beta }, attrs { epsilon }: outputs [y, mean, rstd] over the last axis. */
  layerNorm: 'VitlensLayerNorm',
  /** inputs { dy, x, mean, rstd, gamma }: outputs [dx, dgamma, dbeta]. */
  layerNormGrad: 'VitlensLayerNormGrad',
} as const;

export type FusedKernelName = (typeof FUSED_KERNELS)[keyof typeof FUSED_KERNELS];

/** Whether the active backend has the fused kernel `name` registered. */
export function fusedKernel(name: FusedKernelName | NativeKernelName): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** What these kernels need from tfjs-backend-wasm's `BackendWasm` (4.22); read, never changed. */
interface WasmHeapBackend extends WasmBackendLike {
  incRef(dataId: object): void;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * float32 views of tensors' data on the wasm heap, keyed like `tensors` (valid until the next heap
 * allocation: make every output first). Errors name the kernel and the tensor.
 */
function views<K extends string>(backend: WasmHeapBackend, kernel: string, tensors: Record<K, tf.TensorInfo>): Record<K, Float32Array> {
  const out = {} as Record<K, Float32Array>;
  for (const key of Object.keys(tensors) as K[]) {
    const info = tensors[key];
    if (info.dtype !== 'float32') throw new Error(`${kernel}: input '${key}' must be float32, got ${info.dtype}`);
    const offset = backend.dataIdMap.get(info.dataId)?.memoryOffset;
    if (offset == null) throw new Error(`${kernel}: input '${key}' has no wasm heap offset`);
    out[key] = new Float32Array(backend.wasm.HEAPU8.buffer, offset >>> 0, tf.util.sizeFromShape(info.shape));
  }
  return out;
}

// erf(x) for float32 as a rational function of x (odd numerator, even denominator), on [-4, 4]
// where |erf| < 1 − 1e-7; the coefficients are the ones of Eigen's `generic_fast_erf_float`
// (also used by XLA). Max error ~1 ulp in float32, no exp needed.
const A1 = -1.60960333262415e-2;
const A3 = -2.95459980854025e-3;
const A5 = -7.34990630326855e-4;
const A7 = -5.69250639462346e-5;
const A9 = -2.10102402082508e-6;
const A11 = 2.77068142495902e-8;
const A13 = -2.72614225801306e-10;
const B0 = -1.42647390514189e-2;
const B2 = -7.37332916720468e-3;
const B4 = -1.68282697438203e-3;
const B6 = -2.13374055278905e-4;
const B8 = -1.45660718464996e-5;

/** erf(x) to float32 precision. */
export function erf32(x: number): number {
  const c = Math.min(4, Math.max(-4, x));
  const c2 = c * c;
  let p = c2 * A13 + A11;
  p = c2 * p + A9;
  p = c2 * p + A7;
  p = c2 * p + A5;
  p = c2 * p + A3;
  p = c2 * p + A1;
  let q = c2 * B8 + B6;
  q = c2 * q + B4;
  q = c2 * q + B2;
  q = c2 * q + B0;
  // rounded to float32 like the SIMD version, so erf(±4 and beyond) is exactly ±1 and GELU's far tail is 0
  return Math.fround((c * p) / q);
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function gelu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmHeapBackend;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const out = backend.makeOutput(x.shape, 'float32');
  const { x: xs, y: ys } = views(backend, FUSED_KERNELS.gelu, { x, y: out });
  // SIMD for whole groups of 4 (scripts/bmm.wat), JS for the rest or without the module.
  const simd = useSimd ? kernelFor(backend) : null;
  simd?.gelu(xs.byteOffset, ys.byteOffset, xs.length);
  for (let i = simd ? xs.length - (xs.length % 4) : 0; i < xs.length; i++) {
    const v = xs[i]!;
    ys[i] = 0.5 * v * (1 + erf32(v * INV_SQRT2));
  }
  return out;
}

function geluGrad(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmHeapBackend;
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const out = backend.makeOutput(x.shape, 'float32');
  const { x: xs, dy: dys, dx: dxs } = views(backend, FUSED_KERNELS.geluGrad, { x, dy, dx: out });
  if (dys.length !== xs.length) throw new Error(`${FUSED_KERNELS.geluGrad}: dy [${dy.shape}] and x [${x.shape}] differ in size`);
  const simd = useSimd ? kernelFor(backend) : null;
  simd?.geluGrad(dys.byteOffset, xs.byteOffset, dxs.byteOffset, xs.length);
  for (let i = simd ? xs.length - (xs.length % 4) : 0; i < xs.length; i++) {
    const v = xs[i]!;
    const cdf = 0.5 * (1 + erf32(v * INV_SQRT2));
    const pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
    dxs[i] = dys[i]! * (cdf + v * pdf);
  }
  return out;
}

/** rows × width of a tensor normalised over its last axis. */
/** Rows and row width of a LayerNorm input [..., width]. */
export function rowsOf(x: tf.TensorInfo): [rows: number, width: number] {
  const width = x.shape[x.shape.length - 1] ?? 1;
  return [width === 0 ? 0 : tf.util.sizeFromShape(x.shape) / width, width];
}

/** gamma and beta must be [width] for a LayerNorm over x's last axis. */
export function checkLayerNormShapes(name: string, x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo): void {
  const width = rowsOf(x)[1];
  if (gamma.shape.length !== 1 || gamma.shape[0] !== width || beta.shape.length !== 1 || beta.shape[0] !== width) {
    throw new Error(`${name}: gamma [${gamma.shape}] and beta [${beta.shape}] must be [${width}] for x [${x.shape}]`);
  }
}

function layerNorm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as unknown as WasmHeapBackend;
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { epsilon } = args.attrs as { epsilon: number };
  const name = FUSED_KERNELS.layerNorm;
  const [rows, width] = rowsOf(x);
  checkLayerNormShapes(name, x, gamma, beta);
  const out = backend.makeOutput(x.shape, 'float32');
  const meanOut = backend.makeOutput(x.shape.slice(0, -1), 'float32'); // [...lead]
  const rstdOut = backend.makeOutput(x.shape.slice(0, -1), 'float32'); // [...lead]
  const { x: xs, gamma: g, beta: b, y: ys, mean: means, rstd: rstds } = views(backend, name, { x, gamma, beta, y: out, mean: meanOut, rstd: rstdOut });
  const simd = useSimd ? kernelFor(backend) : null;
  if (simd) {
    simd.layerNorm(xs.byteOffset, g.byteOffset, b.byteOffset, ys.byteOffset, means.byteOffset, rstds.byteOffset, rows, width, epsilon);
    return [out, meanOut, rstdOut];
  }
  // Without the SIMD module: the same computation in JS, with float64 row statistics.
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    let sum = 0;
    for (let j = 0; j < width; j++) sum += xs[o + j]!;
    const mean = sum / width;
    let sq = 0;
    for (let j = 0; j < width; j++) {
      const d = xs[o + j]! - mean;
      sq += d * d;
    }
    const rstd = 1 / Math.sqrt(sq / width + epsilon); // biased variance, as torch
    for (let j = 0; j < width; j++) ys[o + j] = (xs[o + j]! - mean) * rstd * g[j]! + b[j]!;
    means[r] = mean;
    rstds[r] = rstd;
  }
  return [out, meanOut, rstdOut];
}

/**
 * With x̂ = (x − mean)·rstd and g = dy·γ over one row of width H:
 * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ_rows dy·x̂, dβ = Σ_rows dy.
 */
function layerNormGrad(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as unknown as WasmHeapBackend;
  const { dy, x, mean, rstd, gamma } = args.inputs as Record<'dy' | 'x' | 'mean' | 'rstd' | 'gamma', tf.TensorInfo>;
  const name = FUSED_KERNELS.layerNormGrad;
  const [rows, width] = rowsOf(x);
  const dxOut = backend.makeOutput(x.shape, 'float32');
  const dgOut = backend.makeOutput([width], 'float32');
  const dbOut = backend.makeOutput([width], 'float32');
  const { x: xs, dy: dys, mean: means, rstd: rstds, gamma: g, dx: dxs, dgamma: dgs, dbeta: dbs } = views(backend, name, {
    x, dy, mean, rstd, gamma, dx: dxOut, dgamma: dgOut, dbeta: dbOut,
  });
  if (dys.length !== xs.length || means.length !== rows || rstds.length !== rows || g.length !== width) {
    throw new Error(`${name}: shapes do not match x [${x.shape}] (dy [${dy.shape}], mean [${mean.shape}], rstd [${rstd.shape}], gamma [${gamma.shape}])`);
  }
  const simd = useSimd ? kernelFor(backend) : null;
  if (simd) {
    simd.layerNormGrad(dys.byteOffset, xs.byteOffset, means.byteOffset, rstds.byteOffset, g.byteOffset, dxs.byteOffset, dgs.byteOffset, dbs.byteOffset, rows, width);
    return [dxOut, dgOut, dbOut];
  }
  // Without the SIMD module: JS, accumulating dγ, dβ in float64 across rows.
  const dg = new Float64Array(width);
  const db = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    const m = means[r]!;
    const s = rstds[r]!;
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < width; j++) {
      const d = dys[o + j]!;
      const xh = (xs[o + j]! - m) * s;
      const gj = d * g[j]!;
      sumG += gj;
      sumGX += gj * xh;
      dg[j]! += d * xh;
      db[j]! += d;
    }
    const meanG = sumG / width;
    const meanGX = sumGX / width;
    for (let j = 0; j < width; j++) {
      const xh = (xs[o + j]! - m) * s;
      dxs[o + j] = s * (dys[o + j]! * g[j]! - meanG - xh * meanGX);
    }
  }
  dgs.set(dg);
  dbs.set(db);
  return [dxOut, dgOut, dbOut];
}

/**
 * Identity without a copy: tfjs never writes into a tensor's data after it is made (variables get
 * a new buffer on assign), so the output may share the input's buffer, as on the cpu backend. The
 * stock wasm Identity copies, and autodiff calls it for every tensor a kernel saves for backward.
 */
function sharedIdentity(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as unknown as WasmHeapBackend;
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return stockIdentity!.kernelFunc(args) as tf.TensorInfo;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const BACKEND = 'wasm';
/** false: the JS loops even where the SIMD module is available (tests of that path). */
let useSimd = true;
let stockIdentity: tf.KernelConfig | undefined;
let registered = false;

const FUSED: Array<[FusedKernelName, tf.KernelFunc]> = [
  [FUSED_KERNELS.gelu, gelu as tf.KernelFunc],
  [FUSED_KERNELS.geluGrad, geluGrad as tf.KernelFunc],
  [FUSED_KERNELS.layerNorm, layerNorm as unknown as tf.KernelFunc],
  [FUSED_KERNELS.layerNormGrad, layerNormGrad as unknown as tf.KernelFunc],
];

/**
 * Register the fused kernels and the zero-copy Identity on the wasm backend. Idempotent.
 * `{ simd: false }` computes them with the JS loops (the path for a backend whose memory the SIMD
 * module cannot import); the default uses WebAssembly SIMD where it can.
 */
export function registerFusedWasmKernels(options: { simd?: boolean } = {}): boolean {
  useSimd = options.simd ?? true;
  if (registered) return true;
  const identity = tf.getKernel('Identity', BACKEND);
  if (identity === undefined) return false;
  stockIdentity = identity;
  tf.unregisterKernel('Identity', BACKEND);
  tf.registerKernel({ kernelName: 'Identity', backendName: BACKEND, kernelFunc: sharedIdentity as tf.KernelFunc });
  for (const [kernelName, kernelFunc] of FUSED) {
    if (tf.getKernel(kernelName, BACKEND) === undefined) tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
  }
  registered = true;
  return true;
}

/** Remove the fused kernels and put the stock Identity back. */
export function unregisterFusedWasmKernels(): void {
  if (!registered) return;
  for (const [kernelName] of FUSED) tf.unregisterKernel(kernelName, BACKEND);
  tf.unregisterKernel('Identity', BACKEND);
  tf.registerKernel(stockIdentity!);
  stockIdentity = undefined;
  registered = false;
}
