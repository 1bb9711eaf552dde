import os from 'node:os';
import path from 'node:path';

export const PRESETS = ['vit-tiny-patch4-32', 'vit-mini-patch4-32', 'vit-base-patch16-224'] as const;

/** The vitlens backends the bench measures (each job loads one in its own process). */
export const BENCH_BACKENDS = ['wasm', 'tensorflow'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

export interface Options {
  quick: boolean;
  only: string[];
  compareTorch: boolean;
  /** `auto`: both when the native backend loads, else wasm alone (the run says why). */
  backends: BenchBackend[] | 'auto';
  /** wasm training replicas (main thread + workers), one core each. */
  workers: number[];
  /** TensorFlow intra-op (and inter-op) threads, one configuration each. */
  tfThreads: number[];
  /** `--micro-batch`: per backend, or `all` for every backend; unset = `defaultMicroBatch`. */
  microBatch: Partial<Record<BenchBackend | 'all', number>>;
  out: string;
}

const USAGE =
  'valid: --quick, --only <preset>[,<preset>], --backend wasm|tensorflow|all, --compare torch, --workers 1,2, ' +
  '--tf-threads 2,1, --micro-batch <n>|<backend>=<n>[,...], --out <dir>';

function positiveInts(flag: string, value: string, example: string): number[] {
  return value.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: '${s}' is not a positive integer (e.g. ${flag} ${example})`);
    return n;
  });
}

function parseMicroBatch(value: string, into: Options['microBatch']): void {
  for (const part of value.split(',')) {
    const [key, n] = part.includes('=') ? (part.split('=', 2) as [string, string]) : ['all', part];
    if (key !== 'all' && !(BENCH_BACKENDS as readonly string[]).includes(key)) {
      throw new Error(`--micro-batch: unknown backend '${key}' in '${part}'; valid: ${BENCH_BACKENDS.join(', ')} (e.g. --micro-batch tensorflow=128)`);
    }
    into[key as BenchBackend | 'all'] = positiveInts('--micro-batch', n, 'tensorflow=128')[0]!;
  }
}

export function parseArgs(argv: string[], repoRoot: string): Options {
  const env = process.env.VITLENS_BACKEND?.trim();
  const o: Options = {
    quick: false,
    only: [],
    compareTorch: false,
    backends: env === 'wasm' || env === 'tensorflow' ? [env] : 'auto',
    workers: [1, 2],
    // TensorFlow's own default: one intra-op thread per schedulable CPU.
    tfThreads: [os.availableParallelism()],
    microBatch: {},
    out: path.join(repoRoot, 'results'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value; ${USAGE}`);
      return v;
    };
    if (a === '--') continue;
    else if (a === '--quick') o.quick = true;
    else if (a === '--only') o.only.push(...value().split(','));
    else if (a === '--compare') {
      const v = value();
      if (v !== 'torch') throw new Error(`--compare: unknown reference '${v}'; the one reference is 'torch'`);
      o.compareTorch = true;
    } else if (a === '--backend') {
      const v = value();
      if (v === 'all') o.backends = [...BENCH_BACKENDS];
      else if ((BENCH_BACKENDS as readonly string[]).includes(v)) o.backends = [v as BenchBackend];
      else throw new Error(`--backend: unknown backend '${v}'; valid: ${BENCH_BACKENDS.join(', ')}, all`);
    } else if (a === '--workers') o.workers = positiveInts(a, value(), '1,2');
    else if (a === '--tf-threads') o.tfThreads = positiveInts(a, value(), '2,1');
    else if (a === '--micro-batch') parseMicroBatch(value(), o.microBatch);
    else if (a === '--out') o.out = path.resolve(value());
    else throw new Error(`unknown argument '${a}'; ${USAGE}`);
  }
  for (const p of o.only) {
    if (!(PRESETS as readonly string[]).includes(p)) throw new Error(`--only: unknown preset '${p}'; valid presets are ${PRESETS.join(', ')}`);
  }
  return o;
}

/** Batch sizes of one preset's measurements. */
export interface PresetBatches {
  infer: number;
  train: number;
}

export function presetBatches(preset: string, quick: boolean): PresetBatches {
  const base = preset === 'vit-base-patch16-224';
  return {
    // 64, not 128, for the 32×32 presets: on wasm vit-tiny inference ran at ~50 images/s at batch
    // 32 or 64 but ~30 at batch 128 (packages/vit-model/scripts/bench-forward.mjs), so 64 is its best case.
    infer: base ? 4 : quick ? 32 : 64,
    train: base ? (quick ? 2 : 16) : quick ? 32 : 128,
  };
}

/**
 * Images per forward/backward pass when `--micro-batch` does not say.
 * - wasm: what the 4 GiB heap holds with room for weights and AdamW state (~39 MB of activations
 *   per vit-tiny image: 32; ViT-B/16 ~0.6 GB per image: 1).
 * - tensorflow: no heap cap; the choice trades per-kernel overhead (~16 µs per TF eager kernel, the
 *   same count per step whatever the batch) against peak RSS. vit-tiny, batch 128, fused kernels:
 *   micro 32 / 64 / 128 → 1.8 / 2.9 / 5.0 GB peak RSS against PyTorch's 2.0 GB for the whole batch,
 *   while images/s (vit-mini) went 114 / 136 / 139: 64 takes nearly all the speed and stays within
 *   2× of PyTorch's memory. ViT-B/16's kernels are large enough that the overhead does not matter;
 *   micro 4 peaked at 3.5 GB for a 4-image step (PyTorch's batch-16 step: 3.5 GB).
 */
export function defaultMicroBatch(backend: BenchBackend, preset: string, quick: boolean): number {
  const base = preset === 'vit-base-patch16-224';
  if (backend === 'tensorflow') return base ? 4 : quick ? 16 : 64;
  return base ? 1 : quick ? 16 : 32;
}

export function microBatchFor(o: Options, backend: BenchBackend, preset: string): number {
  const batch = presetBatches(preset, o.quick).train;
  return Math.min(batch, o.microBatch[backend] ?? o.microBatch.all ?? defaultMicroBatch(backend, preset, o.quick));
}
