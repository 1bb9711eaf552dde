import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type CheckpointStatus, checkpointStatus, isCheckpointFile } from './checkpoint';
import { contentTypeFor } from './content-types';
import { heldOutSamples, listSampleFolder, randomSample, type SampleFolder } from './dataset';
import { decodePathSegments, PathRefusedError, resolveInside } from './safe-path';
import { TRAINER_STATE_FILE, readTrainerState } from '@vitlens/train-loop';
import { classNames, parseConfig } from '@vitlens/vit-model';

export interface ServeOptions {
  /** The built page (apps/web/dist): index.html and assets/. */
  webRoot: string;
  /** Checkpoint folder (config.json, preprocessor_config.json, model.safetensors). */
  checkpointDir?: string | undefined;
  /** Image folder for random samples (`<data>/<class>/*` or `<data>/{test,train}/<class>/*`). */
  dataDir?: string | undefined;
  /** Interface to bind; loopback by default. */
  host?: string | undefined;
  /** Port; 0 picks a free one. Default 8080. */
  port?: number | undefined;
  /** Longest request target accepted (bytes); longer ones get 414. Default 2048. */
  maxUrlLength?: number | undefined;
  /** Largest request body accepted (bytes); every route is GET/HEAD, so the default is 0 → 413. */
  maxBodyBytes?: number | undefined;
  /** One line per served request, e.g. for `--verbose`. */
  logRequest?: ((line: string) => void) | undefined;
}

export interface RunningServer {
  /** `http://host:port/` with the port actually bound. */
  url: string;
  host: string;
  port: number;
  checkpoint: CheckpointStatus;
  dataset: SampleFolder | undefined;
  server: http.Server;
  close(): Promise<void>;
}

const ALLOWED_METHODS = 'GET, HEAD';

/**
 * Headers on every response. The CSP allows only this origin, plus: blob:/data: images the page
 * makes from dropped files; `wasm-unsafe-eval` so the tfjs wasm backend can compile; and blob:
 * scripts and workers, because the multi-threaded wasm build starts its workers from blob URLs
 * that `importScripts` more blob URLs (only same-origin script can create those).
 * COOP/COEP make the page cross-origin isolated, which lets tfjs use its multi-threaded wasm build.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; worker-src 'self' blob:; img-src 'self' blob: data:; " +
    "style-src 'self' 'unsafe-inline'; connect-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, head: boolean, extra: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(head ? undefined : text);
}

async function sendFile(
  res: http.ServerResponse,
  file: string,
  size: number,
  head: boolean,
  headers: Record<string, string>,
): Promise<void> {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': contentTypeFor(file), 'Content-Length': String(size), ...headers });
  if (head) {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file);
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    stream.on('end', resolve);
    stream.pipe(res);
  });
}

/** Start the vitlens HTTP server; resolves once it listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const maxUrlLength = options.maxUrlLength ?? 2048;
  const maxBodyBytes = options.maxBodyBytes ?? 0;
  const webRoot = path.resolve(options.webRoot);
  try {
    await fs.access(path.join(webRoot, 'index.html'));
  } catch {
    throw new Error(`the page is not built: ${path.join(webRoot, 'index.html')} is missing (run 'pnpm --filter @vitlens/cli... build')`);
  }
  const checkpointDir = options.checkpointDir === undefined ? undefined : path.resolve(options.checkpointDir);
  // named relative to the working directory when inside it, else by its absolute path
  const relative = checkpointDir === undefined ? '' : path.relative(process.cwd(), checkpointDir);
  const checkpointName =
    checkpointDir === undefined ? '(none)' : relative.startsWith('..') || path.isAbsolute(relative) ? checkpointDir : relative || '.';
  const dataset = options.dataDir === undefined ? undefined : await samplesFor(options.dataDir, checkpointDir);

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? '';
    const target = req.url ?? '/';
    if (target.length > maxUrlLength) {
      throw new HttpError(414, `request target of ${target.length} bytes is longer than the ${maxUrlLength} allowed`);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      throw new HttpError(405, `method ${method} is not allowed; this server answers ${ALLOWED_METHODS}`, { Allow: ALLOWED_METHODS });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (req.headers['transfer-encoding'] !== undefined || !Number.isFinite(declared) || declared > maxBodyBytes) {
      throw new HttpError(413, `request body too large: ${maxBodyBytes} bytes allowed, got ${req.headers['content-length'] ?? 'a chunked body'}`);
    }
    const head = method === 'HEAD';
    const segments = decodePathSegments(target);

    if (segments[0] === 'api') {
      await handleApi(segments.slice(1), res, head);
      return;
    }
    const rel = segments.length === 0 ? ['index.html'] : segments;
    const { file, size } = await resolveInside(webRoot, rel);
    // Vite puts content-hashed names under assets/: they never change, so they can be cached forever.
    const cache = rel[0] === 'assets' ? 'public, max-age=31536000, immutable' : 'no-cache';
    await sendFile(res, file, size, head, { 'Cache-Control': cache });
  }

  async function handleApi(segments: string[], res: http.ServerResponse, head: boolean): Promise<void> {
    const [route, ...rest] = segments;
    if (route === 'checkpoint') {
      const status = await checkpointStatus(checkpointDir, checkpointName);
      if (rest.length === 0) {
        sendJson(res, status.available ? 200 : 404, status, head);
        return;
      }
      const name = rest.join('/');
      if (!status.available || checkpointDir === undefined) throw new HttpError(404, status.available ? 'no checkpoint' : status.error);
      if (rest.length !== 1 || !isCheckpointFile(name) || status.files[name] === undefined) {
        throw new HttpError(404, `checkpoint file '${name}' is not served; available: ${Object.keys(status.files).join(', ')}`);
      }
      await sendFile(res, path.join(checkpointDir, name), status.files[name], head, { 'Cache-Control': 'no-cache' });
      return;
    }
    if (route === 'dataset' && rest.length === 0) {
      // 200 either way: the page asks on every load, and a 404 would log a console error each time
      if (dataset === undefined) {
        sendJson(res, 200, { available: false, error: 'no dataset: start the server with --data <image folder>' }, head);
        return;
      }
      sendJson(res, 200, { available: true, split: dataset.split, heldOut: dataset.heldOut ?? null, classes: dataset.classes, count: dataset.files.length }, head);
      return;
    }
    if (route === 'sample' && rest.length === 0) {
      if (dataset === undefined) throw new HttpError(404, 'no dataset: start the server with --data <image folder>');
      const sample = randomSample(dataset);
      const stat = await fs.stat(sample.file);
      await sendFile(res, sample.file, stat.size, head, {
        'Cache-Control': 'no-store',
        'X-Vitlens-Label': encodeURIComponent(sample.label),
        'X-Vitlens-Class-Index': String(sample.classIndex),
        'X-Vitlens-Sample': encodeURIComponent(sample.relativePath),
      });
      return;
    }
    throw new HttpError(404, `no API route /api/${segments.join('/')}; routes: /api/checkpoint[/<file>], /api/dataset, /api/sample`);
  }

  const server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const started = Date.now();
    handle(req, res)
      .catch((error: unknown) => {
        const status = error instanceof HttpError || error instanceof PathRefusedError ? error.status : 500;
        const message = error instanceof Error ? error.message : String(error);
        const extra = error instanceof HttpError ? error.headers : {};
        if (res.headersSent) {
          res.destroy();
          return;
        }
        // A refused body is never read: close the connection instead of draining it.
        if (status === 413) extra.Connection = 'close';
        sendJson(res, status, { error: message, status }, req.method === 'HEAD', extra);
      })
      .finally(() => {
        options.logRequest?.(`${req.method} ${(req.url ?? '').slice(0, 200)} ${res.statusCode} ${Date.now() - started}ms`);
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    checkpoint: await checkpointStatus(checkpointDir, checkpointName),
    dataset,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The images the "random test image" button draws from: the `test` split when the folder has one;
 * otherwise, when the checkpoint records the split it was trained with (trainer_state.json:
 * valPerClass, seed), only the validation images it held out, so the page never shows a training image.
 */
async function samplesFor(dataDir: string, checkpointDir: string | undefined): Promise<SampleFolder> {
  const folder = await listSampleFolder(dataDir);
  if (folder.split === 'test' || checkpointDir === undefined) return folder;
  const state = await readTrainerState(path.join(checkpointDir, TRAINER_STATE_FILE)).catch(() => undefined);
  const { valPerClass, seed } = state?.config ?? {};
  if (valPerClass === undefined || valPerClass === 0 || seed === undefined) return folder;
  const configPath = path.join(checkpointDir, 'config.json');
  const config = parseConfig(JSON.parse(await fs.readFile(configPath, 'utf8')) as unknown, configPath);
  try {
    return await heldOutSamples(folder, { classNames: classNames(config), valPerClass, seed });
  } catch (error) {
    return { ...folder, warning: `cannot pick the held-out validation images, offering all of them: ${(error as Error).message}` };
  }
}
