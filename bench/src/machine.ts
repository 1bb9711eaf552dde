import os from 'node:os';
import { readFileSync } from 'node:fs';
import { FUSED_KERNELS, fusedKernel, nativeTensorflowVersion, tf } from '@vitlens/core';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  tfjs: string;
  /** Load average when the run started: other work on the machine makes figures noisy. */
  loadAverage: number[];
  hostname: string;
}

export function machineInfo(): MachineInfo {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    // os.cpus() reports the family only on some VMs; /proc/cpuinfo's flags say what SIMD exists.
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = /^flags\s*:\s*(.*)$/m.exec(info)?.[1]?.split(' ') ?? [];
    const simd = ['avx512f', 'avx2', 'fma'].filter((f) => flags.includes(f));
    if (simd.length > 0) cpu += ` (${simd.join(', ')})`;
  } catch {
    // not Linux: the model name alone
  }
  return {
    cpu,
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version_core,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    hostname: os.hostname(),
  };
}

export interface BackendInfo {
  name: string;
  /** Threads one backend instance uses for kernels (wasm in Node: always 1; tensorflow: intra-op threads). */
  threads: number;
  simd: boolean | null;
  /** libtensorflow's version behind the `tensorflow` backend. */
  tensorflowVersion?: string | undefined;
  /** Whether vitlens's fused LayerNorm/GELU kernels are registered (VITLENS_FAST_KERNELS=0 turns them off). */
  fastKernels: boolean;
}

/**
 * Give TensorFlow `n` intra-op and inter-op threads in `env`. libtensorflow reads them once, when it
 * loads: set them in a child's environment, or in this process before `initBackend` imports tfjs-node.
 */
export function setTensorflowThreads(env: NodeJS.ProcessEnv, n: number): void {
  env.TF_NUM_INTRAOP_THREADS = String(n);
  env.TF_NUM_INTEROP_THREADS = String(n);
}

/** TensorFlow's intra-op threads: TF_NUM_INTRAOP_THREADS when set, else its default of one per CPU. */
export function tensorflowThreads(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(n) && n > 0 ? n : os.availableParallelism();
}

export async function backendInfo(): Promise<BackendInfo> {
  const name = tf.getBackend();
  let threads = 1;
  let simd: boolean | null = null;
  if (name === 'wasm') {
    simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
    const mt = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) as boolean;
    const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as { getThreadsCount?: () => number };
    threads = mt && wasm.getThreadsCount ? wasm.getThreadsCount() : 1;
  } else if (name === 'tensorflow') {
    threads = tensorflowThreads();
  }
  return { name, threads, simd, tensorflowVersion: nativeTensorflowVersion(), fastKernels: fusedKernel(FUSED_KERNELS.layerNorm) };
}

/** Bytes of the wasm backend's linear memory (it only grows), or null on other backends. */
export function wasmHeapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as { wasm?: { HEAP8?: Int8Array } };
  return backend.wasm?.HEAP8?.length ?? null;
}

/** Peak resident set of this process (all threads), bytes. */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
