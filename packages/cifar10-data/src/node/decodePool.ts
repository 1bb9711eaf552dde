import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What a worker hands back for one file: decoded pixels, or the raw bytes for the caller. */
export type WorkerResult = { kind: 'decoded'; data: Uint8Array; height: number; width: number } | { kind: 'raw'; bytes: Uint8Array } | { kind: 'error'; message: string };

// The worker only reads files and decodes them with @vitlens/core's decoder (the expensive part,
// the same decoder the main thread uses). A file it cannot decode goes back as raw bytes, so the
// main thread reports it and applies the policies (skip, fail, resize): the rules live in one place.
// Dynamic import() only, so the code runs whether Node evaluates it as CommonJS or as a module
// (a parent started with --input-type=module makes eval workers modules too).
const WORKER_SOURCE = `
(async () => {
const { parentPort, workerData } = await import('node:worker_threads');
const fs = await import('node:fs');
const imageModule = await import(workerData.decoderUrl);
const decodeImage = imageModule.decodeImage ?? imageModule.default.decodeImage;
parentPort.on('message', ({ id, files }) => {
  const results = [];
  const transfer = [];
  for (const file of files) {
    let bytes;
    try { bytes = fs.readFileSync(file); } catch (e) { results.push({ kind: 'error', message: String(e && e.message || e) }); continue; }
    try {
      const img = decodeImage(bytes, file);
      results.push({ kind: 'decoded', data: img.data, height: img.height, width: img.width });
      transfer.push(img.data.buffer);
      continue;
    } catch (e) {}
    const raw = new Uint8Array(bytes);
    results.push({ kind: 'raw', bytes: raw });
    transfer.push(raw.buffer);
  }
  parentPort.postMessage({ id, results }, transfer);
});
})();
`;

/** The file of `@vitlens/core/image` (the decoder without TensorFlow.js) for the workers to import. */
function resolveDecoder(): string {
  // tsup's ESM output defines a `require` shim without `resolve`: check for resolve itself.
  const req = typeof require === 'function' && typeof require.resolve === 'function' ? require : createRequire(import.meta.url);
  return req.resolve('@vitlens/core/image');
}

/**
 * Read and decode files on `size` worker threads, in chunks, yielding results in file order.
 * At most two chunks per worker are in flight, so memory stays bounded.
 */
export async function* decodeInWorkers(files: string[], size: number, chunk = 256): AsyncGenerator<WorkerResult> {
  const decoderUrl = pathToFileURL(resolveDecoder()).href;
  const workers = Array.from({ length: size }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { decoderUrl } }));
  const pending = new Map<number, { resolve: (r: WorkerResult[]) => void; reject: (e: Error) => void }>();
  const results = new Map<number, Promise<WorkerResult[]>>();
  for (const worker of workers) {
    worker.on('message', ({ id, results: r }: { id: number; results: WorkerResult[] }) => {
      pending.get(id)?.resolve(r);
      pending.delete(id);
    });
    worker.on('error', (error) => {
      for (const p of pending.values()) p.reject(error);
      pending.clear();
    });
  }
  const chunks = Math.ceil(files.length / chunk);
  const submit = (id: number) => {
    const promise = new Promise<WorkerResult[]>((resolve, reject) => pending.set(id, { resolve, reject }));
    promise.catch(() => {});
    results.set(id, promise);
    workers[id % size]!.postMessage({ id, files: files.slice(id * chunk, (id + 1) * chunk) });
  };
  try {
    const inFlight = Math.min(chunks, size * 2);
    for (let id = 0; id < inFlight; id++) submit(id);
    for (let id = 0; id < chunks; id++) {
      const batch = await results.get(id)!;
      results.delete(id);
      if (id + inFlight < chunks) submit(id + inFlight);
      yield* batch;
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
