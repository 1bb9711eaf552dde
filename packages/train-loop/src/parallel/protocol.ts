import type { ParamLayout } from './layout';
import type { GradientOptions } from '../types';

/** What a worker needs to build its replica; sent once as `workerData`. */
export interface WorkerInit {
  /** The model's config and processor (JSON), so the replica has the same architecture. */
  config: unknown;
  processor: unknown;
  layout: ParamLayout;
  /** Backend for the replica ('wasm' or 'cpu'): the same as the main thread's. */
  backend: string;
  microBatchSize?: number;
  /** Latest weights, written by the main thread: float32 [layout.total]. */
  weights: SharedArrayBuffer;
  /** This worker's gradient output: float32 [layout.total]. */
  grads: SharedArrayBuffer;
  index: number;
}

/** Main → worker. The input buffers are shared, not copied, on every message. */
export type ToWorker =
  | {
      type: 'compute';
      id: number;
      /** Reload the replica's weights first when this differs from the version it holds. */
      weightsVersion: number;
      shape: [number, number, number, number];
      images: SharedArrayBuffer;
      labels: SharedArrayBuffer;
      /** Soft targets [n, C] when the batch has them. */
      targets: SharedArrayBuffer | null;
      numClasses: number;
      opts: GradientOptions;
    }
  | { type: 'close' };

/** Worker → main. */
export type FromWorker =
  | { type: 'ready'; wasmHeapBytes: number | null }
  | { type: 'done'; id: number; loss: number; gradNames: string[]; wasmHeapBytes: number | null; seconds: number }
  | { type: 'error'; id: number | null; message: string };
