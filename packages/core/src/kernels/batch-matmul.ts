import * as tf from '@tensorflow/tfjs-core';
import { BMM_WASM_PLAIN, BMM_WASM_SHARED } from './bmm-wasm';

/** What the fast kernel needs from tfjs-backend-wasm's `BackendWasm` (4.22); read, never changed. */
export interface WasmBackendLike {
  wasm: {
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number | null } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** The SIMD module's exports (scripts/bmm.wat); pointers are byte offsets in the memory it imports. */
export interface BmmExports {
  packB(b: number, sBk: number, sBj: number, K: number, N: number, dst: number): void;
  gemm(a: number, sAi: number, sAk: number, panel: number, M: number, N: number, K: number, c: number, ldc: number, tmp: number): void;
  /** y = GELU(x) for the first n − n % 4 elements. */
  gelu(x: number, y: number, n: number): void;
  /** dx = dy·GELU′(x) for the first n − n % 4 elements. */
  geluGrad(dy: number, x: number, dx: number, n: number): void;
  /** LayerNorm of `rows` rows of `width` floats: y, and each row's mean and 1/std. */
  layerNorm(x: number, g: number, b: number, y: number, mean: number, rstd: number, rows: number, width: number, eps: number): void;
  /** LayerNorm backward: dx per row; dg and db summed over the rows (zeroed first). */
  layerNormGrad(dy: number, x: number, mean: number, rstd: number, g: number, dx: number, dg: number, db: number, rows: number, width: number): void;
}

const KERNEL = 'BatchMatMul';
const BACKEND = 'wasm';

let stock: tf.KernelConfig | undefined;
let forceCopy = false;
/** Whether a single non-transposed product goes to this kernel (default) rather than XNNPACK. */
let plain2d = true;
/** The module on a memory of its own, for backends whose memory cannot be imported (threaded build). */
let own: { kernel: BmmExports; memory: WebAssembly.Memory } | null | undefined;
const compiled: { plain?: WebAssembly.Module; shared?: WebAssembly.Module } = {};
const instances = new WeakMap<WebAssembly.Memory, BmmExports | null>();

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function backendMemory(backend: WasmBackendLike): WebAssembly.Memory | undefined {
  const candidates = [backend.wasm.asm?.memory, backend.wasm.wasmMemory];
  return candidates.find((m): m is WebAssembly.Memory => m instanceof WebAssembly.Memory);
}

/** The SIMD module instantiated on the backend's own memory, or null when that is impossible. */
export function kernelFor(backend: WasmBackendLike): BmmExports | null {
  const memory = backendMemory(backend);
  if (memory === undefined) return null;
  const cached = instances.get(memory);
  if (cached !== undefined) return cached;
  const result = instantiate(memory);
  instances.set(memory, result);
  return result;
}

/** The module on its own memory (inputs copied in, output copied out), or null without SIMD. */
function ownKernel(): { kernel: BmmExports; memory: WebAssembly.Memory } | null {
  if (own === undefined) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const kernel = instantiate(memory);
    own = kernel === null ? null : { kernel, memory };
  }
  return own;
}

function instantiate(memory: WebAssembly.Memory): BmmExports | null {
  let result: BmmExports | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const key = shared ? 'shared' : 'plain';
    // Synchronous compile is allowed for a module this small (~1 KB) on every engine's main thread.
    compiled[key] ??= new WebAssembly.Module(decodeBase64(shared ? BMM_WASM_SHARED : BMM_WASM_PLAIN));
    const instance = new WebAssembly.Instance(compiled[key], { env: { memory } });
    result = instance.exports as unknown as BmmExports;
  } catch {
    result = null; // e.g. an engine without SIMD: the stock kernel keeps working
  }
  return result;
}

function offsetOf(backend: WasmBackendLike, info: tf.TensorInfo): number | null {
  const offset = backend.dataIdMap.get(info.dataId)?.memoryOffset;
  return offset == null ? null : offset >>> 0;
}

/**
 * BatchMatMul on the wasm backend's heap with a 4×8 f32x4 micro-kernel. Same semantics as the stock
 * kernel: a [...batchA, M, K] (or [..., K, M] with transposeA), b [...batchB, K, N] (or [..., N, K]),
 * output [...broadcast(batchA, batchB), M, N]; batch entry bi reads a[bi % batchA] and b[bi % batchB].
 */
function fastBatchMatMul(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
  const fallback = stock!.kernelFunc;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  const backend = args.backend as unknown as WasmBackendLike;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return fallback(args);
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  const K = transposeA ? a.shape[aRank - 2]! : a.shape[aRank - 1]!;
  const kB = transposeB ? b.shape[bRank - 1]! : b.shape[bRank - 2]!;
  const M = transposeA ? a.shape[aRank - 1]! : a.shape[aRank - 2]!;
  const N = transposeB ? b.shape[bRank - 2]! : b.shape[bRank - 1]!;
  if (K !== kB) return fallback(args); // the stock kernel throws tfjs's own error message
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  // One plain product went to XNNPACK in the stock kernel; this one measured 1.1–2.6× faster at the
  // ViT Linear shapes (bench/bmm.bench.mjs), so that routing is kept only behind { plain2d: false }.
  if (batch === 1 && !transposeA && !transposeB && !plain2d) return fallback(args);
  const inPlace = forceCopy ? null : kernelFor(backend);
  const copied = inPlace === null ? ownKernel() : null;
  if (inPlace === null && copied === null) return fallback(args);
  const outShape = tf.broadcast_util
    .assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2))
    .concat([M, N]);
  const out = backend.makeOutput(outShape, 'float32');
  if (batch === 0 || M === 0 || N === 0) return out;
  const aPtr = offsetOf(backend, a);
  const bPtr = offsetOf(backend, b);
  const cPtr = offsetOf(backend, out)!;
  if (aPtr === null || bPtr === null) {
    throw new Error(`fast BatchMatMul: input tensor has no wasm heap offset (shapes ${a.shape} and ${b.shape})`);
  }
  const cBytes = batch * M * N * 4;
  if (K === 0) {
    backend.wasm.HEAPU8.fill(0, cPtr, cPtr + cBytes);
    return out;
  }
  const shape: Shape = { batch, batchA, batchB, M, K, N, transposeA, transposeB };
  const scratchBytes = Math.ceil(N / 8) * K * 32 + 128 + 16 * K;
  if (inPlace !== null) {
    const scratch = backend.wasm._malloc(scratchBytes) >>> 0;
    if (scratch === 0) throw new Error(`fast BatchMatMul: wasm heap out of memory allocating ${scratchBytes} bytes`);
    try {
      compute(inPlace, shape, aPtr, bPtr, cPtr, scratch);
    } finally {
      backend.wasm._free(scratch);
    }
    return out;
  }
  // Copy path: A, B, C and scratch laid out one after another in the module's own memory.
  const { kernel, memory } = copied!;
  const aBytes = batchA * M * K * 4;
  const bBytes = batchB * K * N * 4;
  const need = aBytes + bBytes + cBytes + scratchBytes;
  if (memory.buffer.byteLength < need) memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  const local = new Uint8Array(memory.buffer);
  const heap = backend.wasm.HEAPU8; // read after makeOutput: a heap growth replaces this view
  local.set(heap.subarray(aPtr, aPtr + aBytes), 0);
  local.set(heap.subarray(bPtr, bPtr + bBytes), aBytes);
  compute(kernel, shape, 0, aBytes, aBytes + bBytes, aBytes + bBytes + cBytes);
  heap.set(local.subarray(aBytes + bBytes, aBytes + bBytes + cBytes), cPtr);
  return out;
}

interface Shape {
  batch: number;
  batchA: number;
  batchB: number;
  M: number;
  K: number;
  N: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** Runs every batch entry; pointers are byte offsets in the kernel's memory. */
function compute(kernel: BmmExports, s: Shape, aPtr: number, bPtr: number, cPtr: number, scratch: number): void {
  const { batch, batchA, batchB, M, K, N, transposeA, transposeB } = s;
  // Byte strides. A stored [M, K] or, transposed, [K, M]; B stored [K, N] or, transposed, [N, K].
  const sAi = transposeA ? 4 : K * 4;
  const sAk = transposeA ? M * 4 : 4;
  const sBk = transposeB ? 4 : N * 4;
  const sBj = transposeB ? K * 4 : 4;
  const aBatchBytes = M * K * 4;
  const bBatchBytes = K * N * 4;
  const cBatchBytes = M * N * 4;
  // B packed into zero-padded 8-column panels, then the edge tile and packed A strip.
  const tile = scratch + Math.ceil(N / 8) * K * 32;
  let packed = -1;
  for (let bi = 0; bi < batch; bi++) {
    const ai = bi % batchA;
    const bj = bi % batchB;
    if (bj !== packed) {
      kernel.packB(bPtr + bj * bBatchBytes, sBk, sBj, K, N, scratch);
      packed = bj;
    }
    kernel.gemm(aPtr + ai * aBatchBytes, sAi, sAk, scratch, M, N, K, cPtr + bi * cBatchBytes, N * 4, tile);
  }
}

/**
 * Replace the wasm backend's BatchMatMul (a naive loop for batched or transposed products) with a
 * WebAssembly SIMD kernel that works in place on the backend's heap. Anything it does not handle
 * (non-float32, an engine without SIMD) goes to the stock kernel.
 * Where the backend's memory cannot be imported (the threaded build imports its memory and does not
 * expose it), the module runs on its own memory with inputs copied in and the output copied out;
 * `{ copy: true }` forces that path (tests); `{ plain2d: false }` sends a single non-transposed
 * product to the stock kernel's XNNPACK path as before (benchmarks). Idempotent; returns false when the wasm backend is not
 * registered.
 */
export function registerFastWasmKernels(options: { copy?: boolean; plain2d?: boolean } = {}): boolean {
  forceCopy = options.copy ?? false;
  plain2d = options.plain2d ?? true;
  if (stock !== undefined) return true;
  const current = tf.getKernel(KERNEL, BACKEND);
  if (current === undefined) return false;
  stock = current;
  tf.unregisterKernel(KERNEL, BACKEND);
  const config: tf.KernelConfig = { kernelName: KERNEL, backendName: BACKEND, kernelFunc: fastBatchMatMul as tf.KernelFunc };
  if (current.setupFunc !== undefined) config.setupFunc = current.setupFunc;
  if (current.disposeFunc !== undefined) config.disposeFunc = current.disposeFunc;
  tf.registerKernel(config);
  return true;
}

/** Put the stock wasm BatchMatMul back (no-op when the fast one is not registered). */
export function unregisterFastWasmKernels(): void {
  if (stock === undefined) return;
  tf.unregisterKernel(KERNEL, BACKEND);
  tf.registerKernel(stock);
  stock = undefined;
}

/** Whether the fast wasm BatchMatMul is the registered one. */
export function fastWasmKernelsActive(): boolean {
  return stock !== undefined;
}
