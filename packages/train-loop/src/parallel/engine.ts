import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { tf } from '@vitlens/core';
import type { ViTForImageClassification } from '@vitlens/vit-model';
import { LocalGradientEngine } from '../engine';
import type { GradientBatch, GradientEngine, GradientOptions, GradientResult } from '../types';
import { type ParamLayout, paramLayout, writeParams } from './layout';
import type { FromWorker, ToWorker, WorkerInit } from './protocol';
import { resolveWorkerEntry } from './worker-entry';

export interface WorkerGradientEngineOptions {
  /**
   * Replicas computing gradients in parallel, the main thread's included when `mainThread` is
   * true. Default: `os.availableParallelism()` (one per core). `workers: 1` with the main thread
   * is the single-thread engine.
   */
  workers?: number;
  /** Whether the main thread computes a slice too (default true: it would otherwise idle). */
  mainThread?: boolean;
  /** Micro-batch size inside each replica (bounds activation memory), as LocalGradientEngine. */
  microBatchSize?: number;
  /** The worker entry file; default: `parallel-worker.js` next to the build, or the sources in tests. */
  workerEntry?: string | URL;
}

interface Replica {
  worker: Worker;
  grads: Float32Array;
  /** Input buffers (shared, grown on demand). */
  images: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  targets: SharedArrayBuffer | null;
  pending: { resolve: (m: Extract<FromWorker, { type: 'done' }>) => void; reject: (e: Error) => void } | null;
  wasmHeapBytes: number | null;
  failed: Error | null;
  exited: boolean;
}

/**
 * Data-parallel gradients on several cores: each worker_thread holds its own tfjs backend and a
 * replica of the model; a batch is split into slices, each replica computes the mean loss and
 * gradients of its slice, and the results are combined weighted by slice size — the same mean
 * over the whole batch that `LocalGradientEngine` returns. Gradients come back and weights go out
 * through SharedArrayBuffers; messages carry only small control records.
 *
 * The caller applies the optimizer to the main model and then calls `weightsUpdated()`; the
 * replicas load the new weights before their next slice. Call `weightsUpdated()` after any other
 * change to the main model's weights too (e.g. a checkpoint loaded after construction).
 *
 * ```ts
 * const engine = await WorkerGradientEngine.create(model, { workers: 2, microBatchSize: 32 });
 * const { loss, grads } = await engine.computeGradients(batch, { training: true, labelSmoothing: 0.1, seed: step });
 * optimizer.applyGradients(grads, lr); grads.forEach((g) => g.dispose());
 * await engine.weightsUpdated();
 * await engine.dispose();
 * ```
 */
export class WorkerGradientEngine implements GradientEngine {
  private readonly layout: ParamLayout;
  private readonly weights: Float32Array;
  private readonly replicas: Replica[] = [];
  private readonly local: LocalGradientEngine | null;
  private readonly numClasses: number;
  private weightsVersion = 0;
  /** The version last written to the shared weights; -1 forces the first write. */
  private writtenVersion = -1;
  private nextId = 0;
  private disposed = false;
  private readonly ready: Promise<void>;
  /** Seconds each replica spent on its last slice (main first when it computes); for profiling. */
  lastSliceSeconds: number[] = [];

  constructor(
    private readonly model: ViTForImageClassification,
    opts: WorkerGradientEngineOptions = {},
  ) {
    const total = opts.workers ?? (os.availableParallelism?.() ?? os.cpus().length);
    if (!Number.isInteger(total) || total < 1) throw new RangeError(`WorkerGradientEngine: workers must be a positive integer, got ${opts.workers}`);
    if (opts.microBatchSize !== undefined && !(Number.isInteger(opts.microBatchSize) && opts.microBatchSize > 0)) {
      throw new RangeError(`WorkerGradientEngine: microBatchSize must be a positive integer, got ${opts.microBatchSize}`);
    }
    const backend = tf.getBackend();
    if (backend !== 'wasm' && backend !== 'cpu') {
      throw new Error(`WorkerGradientEngine: replicas run on 'wasm' or 'cpu'; the active backend is '${backend}' (use LocalGradientEngine there)`);
    }
    const mainThread = opts.mainThread ?? true;
    this.layout = paramLayout(model.params);
    this.numClasses = Object.keys(model.config.id2label).length;
    this.weights = new Float32Array(new SharedArrayBuffer(this.layout.total * 4));
    const micro = opts.microBatchSize !== undefined ? { microBatchSize: opts.microBatchSize } : {};
    this.local = mainThread ? new LocalGradientEngine(model, micro) : null;
    const workerCount = mainThread ? total - 1 : total;
    this.ready = this.startWorkers(workerCount, backend, opts);
    // Awaited by create() and computeGradients(); this only keeps an early failure from being unhandled.
    this.ready.catch(() => {});
  }

  /** Construct and wait until every replica has built its model (errors surface here). */
  static async create(model: ViTForImageClassification, opts: WorkerGradientEngineOptions = {}): Promise<WorkerGradientEngine> {
    const engine = new WorkerGradientEngine(model, opts);
    try {
      await engine.ready;
    } catch (error) {
      await engine.dispose();
      throw error;
    }
    return engine;
  }

  /** Replicas computing in parallel (main thread included when it computes). */
  get parallelism(): number {
    return this.replicas.length + (this.local ? 1 : 0);
  }

  private async startWorkers(count: number, backend: string, opts: WorkerGradientEngineOptions): Promise<void> {
    if (count === 0) return;
    const entry = await resolveWorkerEntry(opts.workerEntry);
    const started: Promise<void>[] = [];
    for (let index = 0; index < count; index++) {
      const grads = new SharedArrayBuffer(this.layout.total * 4);
      const init: WorkerInit = {
        config: this.model.config,
        processor: this.model.processor,
        layout: this.layout,
        backend,
        weights: this.weights.buffer as SharedArrayBuffer,
        grads,
        index,
        ...(opts.microBatchSize !== undefined ? { microBatchSize: opts.microBatchSize } : {}),
      };
      // execArgv: [] keeps a test runner's loader flags out of the replica.
      const worker = new Worker(entry, { workerData: init, execArgv: [] });
      const replica: Replica = {
        worker,
        grads: new Float32Array(grads),
        images: new SharedArrayBuffer(4),
        labels: new SharedArrayBuffer(4),
        targets: null,
        pending: null,
        wasmHeapBytes: null,
        failed: null,
        exited: false,
      };
      worker.once('exit', () => {
        replica.exited = true;
      });
      this.replicas.push(replica);
      started.push(
        new Promise<void>((resolve, reject) => {
          const fail = (error: Error) => {
            replica.failed = error;
            replica.pending?.reject(error);
            replica.pending = null;
            reject(error);
          };
          worker.on('message', (m: FromWorker) => {
            if (m.type === 'ready') {
              replica.wasmHeapBytes = m.wasmHeapBytes;
              worker.unref(); // an idle replica must not keep the process alive
              resolve();
            } else if (m.type === 'done') {
              replica.wasmHeapBytes = m.wasmHeapBytes;
              const p = replica.pending;
              replica.pending = null;
              worker.unref();
              p?.resolve(m);
            } else if (m.id === null) {
              fail(new Error(`WorkerGradientEngine: replica ${index} failed to start: ${m.message}`));
            } else {
              const p = replica.pending;
              replica.pending = null;
              worker.unref();
              p?.reject(new Error(`WorkerGradientEngine: replica ${index}: ${m.message}`));
            }
          });
          worker.on('error', (e) => fail(new Error(`WorkerGradientEngine: replica ${index} crashed: ${e.message}`)));
          worker.on('exit', (code) => {
            if (!this.disposed) fail(new Error(`WorkerGradientEngine: replica ${index} exited with code ${code}`));
          });
        }),
      );
    }
    await Promise.all(started);
  }

  /** Mean loss and gradients of `batch`, computed in slices on every replica; the caller disposes `grads`. */
  async computeGradients(batch: GradientBatch, opts: GradientOptions): Promise<GradientResult> {
    if (this.disposed) throw new Error('WorkerGradientEngine: used after dispose()');
    await this.ready;
    const [b, h, w, c] = batch.shape;
    const pixels = h * w * c;
    if (batch.images.length !== b * pixels) {
      throw new Error(`WorkerGradientEngine: batch.images has ${batch.images.length} floats, shape [${batch.shape.join(', ')}] needs ${b * pixels}`);
    }
    if (batch.labels.length !== b) throw new Error(`WorkerGradientEngine: ${batch.labels.length} labels for a batch of ${b}`);
    if (batch.targets !== undefined && batch.targets.length !== b * this.numClasses) {
      throw new Error(`WorkerGradientEngine: batch.targets has ${batch.targets.length} values, expected [${b}, ${this.numClasses}]`);
    }
    if (this.writtenVersion !== this.weightsVersion) {
      await writeParams(this.layout, this.model.params, this.weights);
      this.writtenVersion = this.weightsVersion;
    }

    // Slices as even as possible; the main thread (when it computes) takes the first.
    const parts = this.parallelism;
    const sizes = Array.from({ length: parts }, (_, i) => Math.floor(b / parts) + (i < b % parts ? 1 : 0));
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((x, y) => x + y, 0));
    const workerOffset = this.local ? 1 : 0;

    const t0 = performance.now();
    const pending = this.replicas.map((r, i) => {
      const n = sizes[i + workerOffset] as number;
      if (n === 0) return Promise.resolve(null);
      return this.post(r, batch, starts[i + workerOffset] as number, n, opts);
    });
    // Workers run meanwhile; the main thread computes its own slice synchronously on its backend.
    let mainResult: GradientResult | null = null;
    let mainSeconds = 0;
    const n0 = sizes[0] as number;
    if (this.local && n0 > 0) {
      mainResult = await this.local.computeGradients(sliceBatch(batch, 0, n0, this.numClasses), opts);
      mainSeconds = (performance.now() - t0) / 1000;
    }
    const done = await Promise.allSettled(pending);
    const failure = done.find((d) => d.status === 'rejected');
    if (failure) {
      if (mainResult) for (const g of mainResult.grads.values()) g.dispose();
      throw (failure as PromiseRejectedResult).reason;
    }
    const results = done.map((d) => (d as PromiseFulfilledResult<Extract<FromWorker, { type: 'done' }> | null>).value);
    this.lastSliceSeconds = [...(this.local ? [mainSeconds] : []), ...results.map((r) => r?.seconds ?? 0)];

    // Σ_i (n_i / B) · mean_i is the mean over the batch, for the loss and every gradient.
    let loss = 0;
    const combined = new Map<string, Float32Array>();
    const names = mainResult ? [...mainResult.grads.keys()] : (results.find((r) => r !== null)?.gradNames ?? []);
    const nameIndex = new Map(this.layout.names.map((n, i) => [n, i]));
    if (mainResult) {
      const weight = n0 / b;
      loss += weight * mainResult.loss;
      for (const [name, g] of mainResult.grads) {
        const values = (await g.data()) as Float32Array;
        g.dispose();
        const out = new Float32Array(values.length);
        for (let j = 0; j < values.length; j++) out[j] = weight * (values[j] as number);
        combined.set(name, out);
      }
    }
    results.forEach((r, i) => {
      if (r === null) return;
      const weight = (sizes[i + workerOffset] as number) / b;
      loss += weight * r.loss;
      const src = (this.replicas[i] as Replica).grads;
      for (const name of names) {
        const k = nameIndex.get(name) as number;
        const offset = this.layout.offsets[k] as number;
        const size = (combined.get(name)?.length ?? sizeOf(this.layout.shapes[k] as number[])) as number;
        let out = combined.get(name);
        if (out === undefined) {
          out = new Float32Array(size);
          combined.set(name, out);
        }
        for (let j = 0; j < size; j++) out[j] = (out[j] as number) + weight * (src[offset + j] as number);
      }
    });
    const grads = new Map<string, tf.Tensor>();
    for (const name of names) {
      const k = nameIndex.get(name) as number;
      grads.set(name, tf.tensor(combined.get(name) as Float32Array, this.layout.shapes[k] as number[], 'float32'));
    }
    return { loss, grads };
  }

  private post(r: Replica, batch: GradientBatch, start: number, n: number, opts: GradientOptions): Promise<Extract<FromWorker, { type: 'done' }>> {
    if (r.failed) return Promise.reject(r.failed);
    const [, h, w, c] = batch.shape;
    const pixels = h * w * c;
    if (r.images.byteLength < n * pixels * 4) r.images = new SharedArrayBuffer(n * pixels * 4);
    if (r.labels.byteLength < n * 4) r.labels = new SharedArrayBuffer(n * 4);
    new Float32Array(r.images, 0, n * pixels).set(batch.images.subarray(start * pixels, (start + n) * pixels));
    new Int32Array(r.labels, 0, n).set(batch.labels.subarray(start, start + n));
    let targets: SharedArrayBuffer | null = null;
    if (batch.targets !== undefined) {
      const k = this.numClasses;
      if (r.targets === null || r.targets.byteLength < n * k * 4) r.targets = new SharedArrayBuffer(n * k * 4);
      new Float32Array(r.targets, 0, n * k).set(batch.targets.subarray(start * k, (start + n) * k));
      targets = r.targets;
    }
    const message: ToWorker = {
      type: 'compute',
      id: this.nextId++,
      weightsVersion: this.writtenVersion,
      shape: [n, h, w, c],
      images: r.images,
      labels: r.labels,
      targets,
      numClasses: this.numClasses,
      // A distinct dropout seed per slice: equal seeds would give every slice the same masks.
      opts: { ...opts, seed: opts.seed + (start === 0 ? 0 : start * 7919) },
    };
    return new Promise((resolve, reject) => {
      r.pending = { resolve, reject };
      r.worker.ref(); // keep the process alive until this slice is back
      r.worker.postMessage(message);
    });
  }

  /** The main model's weights changed: replicas reload them before their next slice. */
  async weightsUpdated(): Promise<void> {
    this.weightsVersion++;
  }

  /** The wasm heap of each worker replica (bytes), as last reported; the main thread's is not included. */
  wasmHeapBytes(): number[] {
    return this.replicas.map((r) => r.wasmHeapBytes).filter((x): x is number => x !== null);
  }

  /** The worker_threads' ids, one per worker replica (the main thread's slice has none). */
  workerThreadIds(): number[] {
    return this.replicas.map((r) => r.worker.threadId);
  }

  /** Worker threads that have not exited yet (0 after `dispose()` resolves). */
  liveWorkers(): number {
    return this.replicas.filter((r) => !r.exited).length;
  }

  /** Stop every worker (their models and backends go with them) and free the main slice's engine. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.ready.catch(() => {});
    await Promise.all(
      this.replicas.map(
        (r) =>
          new Promise<void>((resolve) => {
            if (r.exited) return resolve();
            r.worker.once('exit', () => resolve());
            r.worker.ref();
            r.worker.postMessage({ type: 'close' } satisfies ToWorker);
            // A replica stuck in a kernel is terminated after a grace period.
            const timer = setTimeout(() => void r.worker.terminate(), 10_000);
            timer.unref();
          }),
      ),
    );
    await this.local?.dispose();
  }
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sliceBatch(batch: GradientBatch, start: number, n: number, numClasses: number): GradientBatch {
  const [, h, w, c] = batch.shape;
  const pixels = h * w * c;
  return {
    images: batch.images.subarray(start * pixels, (start + n) * pixels),
    shape: [n, h, w, c],
    labels: batch.labels.subarray(start, start + n),
    ...(batch.targets !== undefined ? { targets: batch.targets.subarray(start * numClasses, (start + n) * numClasses) } : {}),
  };
}
