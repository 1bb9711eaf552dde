import * as tf from '@tensorflow/tfjs-core';
import { BMM_WASM_PLAIN, BMM_WASM_SHARED } from './bmm-wasm';

/** What the fast kernel needs from tfjs-backend-wasm's `BackendWasm` (4.22); read, never changed. */
interface WasmBackendLike {
  wasm: {
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number | null } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

interface BmmExports {
  packB(b: number, sBk: number, sBj: number, K: number, N: number, dst: number): void;
  gemm(a: number, sAi: number, sAk: number, panel: number, M: number, N: number, K: number, c: number, ldc: number, tmp: number): void;
}

const KERNEL = 'BatchMatMul';
const BACKEND = 'wasm';
/** Micro-kernel scratch besides the B panels: a 4×8 f32 edge tile (128 bytes) and A strip [K][4]. */
const tileBytes = (K: number) => 128 + 16 * K;

let stock: tf.KernelConfig | undefined;
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
function kernelFor(backend: WasmBackendLike): BmmExports | null {
  const memory = backendMemory(backend);
  if (memory === undefined) return null;
  const cached = instances.get(memory);
  if (cached !== undefined) return cached;
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
  instances.set(memory, result);
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
  // One plain product goes to XNNPACK inside the stock kernel, which is faster than this one.
  if (batch === 1 && !transposeA && !transposeB) return fallback(args);
  const kernel = kernelFor(backend);
  if (kernel === null) return fallback(args);
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
  if (K === 0) {
    new Float32Array((backendMemory(backend) as WebAssembly.Memory).buffer, cPtr, batch * M * N).fill(0);
    return out;
  }
  // Byte strides. A stored [M, K] or, transposed, [K, M]; B stored [K, N] or, transposed, [N, K].
  const sAi = transposeA ? 4 : K * 4;
  const sAk = transposeA ? M * 4 : 4;
  const sBk = transposeB ? 4 : N * 4;
  const sBj = transposeB ? K * 4 : 4;
  const aBatchBytes = M * K * 4;
  const bBatchBytes = K * N * 4;
  const cBatchBytes = M * N * 4;
  const panelBytes = Math.ceil(N / 8) * K * 32; // B packed into zero-padded 8-column panels
  const scratch = backend.wasm._malloc(panelBytes + tileBytes(K)) >>> 0;
  if (scratch === 0) throw new Error(`fast BatchMatMul: wasm heap out of memory allocating ${panelBytes} bytes`);
  const tile = scratch + panelBytes;
  try {
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
  } finally {
    backend.wasm._free(scratch);
  }
  return out;
}

/**
 * Replace the wasm backend's BatchMatMul (a naive loop for batched or transposed products) with a
 * WebAssembly SIMD kernel that works in place on the backend's heap. Anything it does not handle
 * (non-float32, a single non-transposed product, an engine without SIMD) goes to the stock kernel.
 * Idempotent; returns false when the wasm backend is not registered.
 */
export function registerFastWasmKernels(): boolean {
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
