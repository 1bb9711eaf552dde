import os from 'node:os';
import { initBackend, tf } from '@vitlens/core';
import { AdamW, type GradientEngine, LocalGradientEngine, WorkerGradientEngine } from '@vitlens/train-loop';
import * as vit from '@vitlens/vit-model';
import { type ShapeConfig, linearShapes } from './flops';
import { type BackendInfo, backendInfo, peakRssBytes, wasmHeapBytes } from './machine';
import type { BenchBackend } from './options';
import { roofline, round } from './roofline';
import { median, spread, timeRuns } from './stats';

/**
 * One measurement, run in its own process so peak RSS and the wasm heap belong to it alone. The
 * parent sets TensorFlow's thread count in the child's environment from `tfThreads` (it is read
 * once, when libtensorflow loads).
 */
export type Job = { backend: BenchBackend; tfThreads?: number } & (
  | { kind: 'info' }
  | { kind: 'roofline'; preset: string; batch: number; training: boolean; reps: number }
  | { kind: 'infer'; preset: string; batch: number; warmup: number; reps: number }
  | { kind: 'train'; preset: string; batch: number; microBatch: number; workers: number; warmup: number; reps: number; /** warm up on this many images instead of a full batch (ViT-B/16) */ warmupBatch?: number }
  | { kind: 'data'; reps: number; quick: boolean }
);

/** What every measured configuration reports, vitlens or PyTorch. */
export interface Measured {
  /** images/s (infer, train, data) or GFLOP/s (roofline): the median of `runs`. */
  value: number;
  unit: string;
  /** Per-run raw figures behind the median (seconds per run, or GFLOP/s for roofline). */
  runs: number[];
  /** (max − min) / median of the runs. */
  spread: number;
  gflopsEffective?: number;
  secondsPerImage?: number;
  /** The process's own peak resident set (getrusage maxrss), worker threads included. */
  peakRssMiB: number;
  /** 1-minute load average when the job started: the machine's other work. */
  load?: number;
}

export interface JobResult extends Measured {
  job: Job;
  backend: string;
  threads: number;
  simd: boolean | null;
  /** Largest wasm heap among the replicas (each worker has its own), MiB. */
  wasmHeapMiB: number | null;
  detail?: Record<string, unknown>;
}

const CIFAR_LABELS = Object.fromEntries(
  ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'].map((n, i) => [String(i), n]),
);

function configFor(preset: string): vit.ViTConfig {
  const label2id = Object.fromEntries(Object.entries(CIFAR_LABELS).map(([i, n]) => [n, Number(i)]));
  return vit.createConfig(preset, { id2label: CIFAR_LABELS, label2id });
}

export function shapeConfig(c: vit.ViTConfig): ShapeConfig {
  return { ...c, numLabels: Object.keys(c.id2label).length };
}

/** Deterministic pseudo-images: throughput does not depend on pixel values. */
function syntheticImages(n: number, size: number): Float32Array {
  const out = new Float32Array(n * size * size * 3);
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

const MiB = 2 ** 20;

/** The `info` job's answer: what a job on this backend runs on. */
export type InfoResult = BackendInfo & { module: string };

export async function runJob(job: Job): Promise<JobResult | InfoResult> {
  const load = round(os.loadavg()[0] ?? 0);
  const choice = await initBackend({ prefer: job.backend });
  const be = await backendInfo();
  if (job.kind === 'info') return { ...be, module: choice.module };
  const base = { job, backend: be.name, threads: be.threads, simd: be.simd, load };
  const mem = (workerHeaps: number[] = []) => {
    const heaps = [wasmHeapBytes(), ...workerHeaps].filter((x): x is number => x !== null);
    return {
      peakRssMiB: round(peakRssBytes() / MiB, 0),
      wasmHeapMiB: heaps.length > 0 ? round(Math.max(...heaps) / MiB, 0) : null,
    };
  };

  if (job.kind === 'roofline') {
    const cfg = shapeConfig(configFor(job.preset));
    const r = await roofline(linearShapes(cfg, job.batch, job.training), { reps: job.reps, minSeconds: 0.25 });
    return { ...base, value: r.gflops, unit: 'GFLOP/s', runs: r.shapes.map((s) => s.gflops), spread: 0, ...mem(), detail: { shapes: r.shapes } };
  }

  if (job.kind === 'data') return runDataJob(job, base, mem);

  const config = configFor(job.preset);
  const model = vit.ViTForImageClassification.create(config, { seed: 0 });
  const size = config.image_size;
  // matmul FLOPs of one image's forward pass; training ≈ 3× forward (dX and dW each as large)
  const fwdFlops = vit.countForwardFlops(config);

  if (job.kind === 'infer') {
    const x = tf.tensor4d(syntheticImages(job.batch, size), [job.batch, size, size, 3]);
    const before = tf.memory().numTensors;
    const seconds = await timeRuns(
      async () => {
        const { logits } = model.forward(x);
        await logits.data();
        logits.dispose();
      },
      { warmup: job.warmup, reps: job.reps },
    );
    if (tf.memory().numTensors !== before) throw new Error(`infer ${job.preset}: forward leaked ${tf.memory().numTensors - before} tensors`);
    x.dispose();
    const s = median(seconds);
    const m = mem();
    model.dispose();
    return {
      ...base,
      value: round(job.batch / s),
      unit: 'images/s',
      runs: seconds.map((v) => round(v, 4)),
      spread: round(spread(seconds)),
      gflopsEffective: round((fwdFlops * job.batch) / s / 1e9),
      secondsPerImage: round(s / job.batch, 4),
      ...m,
    };
  }

  // train: forward + loss + backward + AdamW on the main thread, as the trainer does it.
  const engine: GradientEngine & { wasmHeapBytes?: () => number[] } =
    job.workers > 1 ? await WorkerGradientEngine.create(model, { workers: job.workers, microBatchSize: job.microBatch }) : new LocalGradientEngine(model, { microBatchSize: job.microBatch });
  const optimizer = new AdamW(model.params, { decay: model.decayParamNames() });
  const batch = {
    images: syntheticImages(job.batch, size),
    shape: [job.batch, size, size, 3] as [number, number, number, number],
    labels: Int32Array.from({ length: job.batch }, (_, i) => i % 10),
  };
  let lastLoss = Number.NaN;
  let optimizerSeconds = 0;
  const step = async (b = batch) => {
    const { loss, grads } = await engine.computeGradients(b, { training: true, labelSmoothing: 0, seed: 0 });
    const t0 = performance.now();
    optimizer.applyGradients(grads, 1e-4);
    for (const g of grads.values()) g.dispose();
    optimizerSeconds = (performance.now() - t0) / 1000;
    await engine.weightsUpdated?.();
    lastLoss = loss;
  };
  if (job.warmupBatch !== undefined) {
    const n = job.warmupBatch;
    await step({ images: batch.images.subarray(0, n * size * size * 3), shape: [n, size, size, 3], labels: batch.labels.subarray(0, n) });
  }
  const seconds = await timeRuns(() => step(), { warmup: job.warmupBatch !== undefined ? 0 : job.warmup, reps: job.reps });
  const workerHeaps = engine.wasmHeapBytes?.() ?? [];
  const m = mem(workerHeaps);
  await engine.dispose();
  optimizer.dispose();
  model.dispose();
  const s = median(seconds);
  return {
    ...base,
    value: round(job.batch / s),
    unit: 'images/s',
    runs: seconds.map((v) => round(v, 3)),
    spread: round(spread(seconds)),
    gflopsEffective: round((3 * fwdFlops * job.batch) / s / 1e9),
    secondsPerImage: round(s / job.batch, 4),
    ...m,
    detail: { engine: engine.constructor.name, lastLoss: round(lastLoss, 4), optimizerSeconds: round(optimizerSeconds, 3) },
  };
}

async function runDataJob(
  job: Extract<Job, { kind: 'data' }>,
  base: Pick<JobResult, 'job' | 'backend' | 'threads' | 'simd' | 'load'>,
  mem: () => { peakRssMiB: number; wasmHeapMiB: number | null },
): Promise<JobResult> {
  const { benchData } = await import('@vitlens/cifar10-data/node');
  const r = await benchData({ repeats: job.reps, decodeImages: job.quick ? 1000 : 5000, batches: job.quick ? 3 : 10 });
  return {
    ...base,
    value: round(r.decode.imagesPerSecond),
    unit: 'images/s',
    runs: [],
    spread: 0,
    ...mem(),
    detail: {
      root: r.root,
      decodeImages: r.decode.images,
      batches: r.batches.map((b) => ({ policy: b.policy, size: b.size, imagesPerSecond: round(b.imagesPerSecond) })),
    },
  };
}
