import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface TorchResult {
  imagesPerSecond?: number;
  gflops?: number;
  runs: number[];
  threads: number;
  torch: string;
  /** The Python process's peak resident set (ru_maxrss), MiB; absent for `mm`. */
  peakRssMiB?: number;
}

/**
 * The environment that makes PyTorch a fair reference on these machines (bench/README.md):
 * OpenBLAS picks its own kernels (no forced core type / L2 size) and glibc malloc keeps freed
 * memory instead of returning it to the OS, which otherwise costs page faults on every step.
 */
export function fairTorchEnv(threads: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  env.MALLOC_MMAP_MAX_ = '0';
  env.MALLOC_TRIM_THRESHOLD_ = '100000000000';
  env.OMP_NUM_THREADS = String(threads);
  env.OPENBLAS_NUM_THREADS = String(threads);
  return env;
}

/** Debian's python3-torch lives under /usr/bin/python3 (a pyenv python3 earlier in PATH lacks it). */
export function torchPython(): string {
  return process.env.VITLENS_TORCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
}

export function torchAvailable(): { ok: boolean; why: string } {
  const r = spawnSync(torchPython(), ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? { ok: true, why: `torch ${r.stdout.trim()}` } : { ok: false, why: (r.stderr || r.error?.message || '').trim().split('\n').pop() ?? '' };
}

export function runTorch(benchDir: string, args: { mode: 'train' | 'infer' | 'mm'; threads: number; config?: unknown; batch?: number; warmup: number; reps: number }): TorchResult {
  const argv = [path.join(benchDir, 'torch_vit.py'), '--mode', args.mode, '--threads', String(args.threads), '--warmup', String(args.warmup), '--reps', String(args.reps)];
  if (args.config !== undefined) argv.push('--config', JSON.stringify(args.config));
  if (args.batch !== undefined) argv.push('--batch', String(args.batch));
  const r = spawnSync(torchPython(), argv, { encoding: 'utf8', env: fairTorchEnv(args.threads), maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`torch_vit.py ${argv.slice(1).join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as TorchResult;
}
