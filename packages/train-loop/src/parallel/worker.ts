// Entry of one WorkerGradientEngine replica (a worker_thread with its own tfjs backend and model).
import { parentPort, workerData } from 'node:worker_threads';
import '../register-gradients';
import { initBackend, tf } from '@vitlens/core';
import { type ImageProcessorConfig, type ViTConfig, ViTForImageClassification } from '@vitlens/vit-model';
import { LocalGradientEngine } from '../engine';
import { checkLayout, readParams } from './layout';
import type { FromWorker, ToWorker, WorkerInit } from './protocol';

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error('parallel worker: started outside worker_threads');

function heapBytes(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  return (tf.backend() as unknown as { wasm?: { HEAP8?: Int8Array } }).wasm?.HEAP8?.length ?? null;
}

function send(message: FromWorker): void {
  port?.postMessage(message);
}

async function start(): Promise<void> {
  await initBackend({ prefer: init.backend as 'wasm' | 'cpu' });
  const model = ViTForImageClassification.create(init.config as ViTConfig, { processor: init.processor as ImageProcessorConfig, seed: 0 });
  const where = `parallel worker ${init.index}`;
  checkLayout(init.layout, model.params, where);
  const engine = new LocalGradientEngine(model, init.microBatchSize !== undefined ? { microBatchSize: init.microBatchSize } : {});
  const weights = new Float32Array(init.weights);
  const grads = new Float32Array(init.grads);
  const offsetOf = new Map(init.layout.names.map((n, i) => [n, init.layout.offsets[i] as number]));
  let version = -1;

  port?.on('message', async (msg: ToWorker) => {
    if (msg.type === 'close') {
      await engine.dispose();
      model.dispose();
      port?.close();
      return;
    }
    try {
      const t0 = performance.now();
      if (msg.weightsVersion !== version) {
        readParams(init.layout, model.params, weights);
        version = msg.weightsVersion;
      }
      const [n, h, w, c] = msg.shape;
      const result = await engine.computeGradients(
        {
          images: new Float32Array(msg.images, 0, n * h * w * c),
          shape: msg.shape,
          labels: new Int32Array(msg.labels, 0, n),
          ...(msg.targets !== null ? { targets: new Float32Array(msg.targets, 0, n * msg.numClasses) } : {}),
        },
        msg.opts,
      );
      const names: string[] = [];
      for (const [name, g] of result.grads) {
        const offset = offsetOf.get(name);
        if (offset === undefined) throw new Error(`${where}: gradient for unknown parameter '${name}'`);
        grads.set((await g.data()) as Float32Array, offset);
        g.dispose();
        names.push(name);
      }
      send({ type: 'done', id: msg.id, loss: result.loss, gradNames: names, wasmHeapBytes: heapBytes(), seconds: (performance.now() - t0) / 1000 });
    } catch (error) {
      send({ type: 'error', id: msg.id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
  send({ type: 'ready', wasmHeapBytes: heapBytes() });
}

start().catch((error: unknown) => {
  send({ type: 'error', id: null, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
});
