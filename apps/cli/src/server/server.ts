import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import type { ApiError, CheckpointListing, DatasetInfo, SampleHeaders } from '@vitlens/web/api';
import { heldOutSplitOf } from '../held-out';
import { checkpointWatcher, isCheckpointFile } from './checkpoint';
import { contentTypeFor } from './content-types';
import { heldOutSamples, listSampleFolder, randomSample, type SampleFolder } from './dataset';
import { decodePathSegments, PathRefusedError, resolveInside } from './safe-path';
import { type ViTConfig, classNames } from '@vitlens/vit-model';

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
  /**
   * Host names (besides loopback names and the bound address) that requests may name in their
   * `Host` header, e.g. the machine's name when serving to a network. Any other name is refused,
   * so a web page cannot reach the server through DNS rebinding.
   */
  allowedHosts?: readonly string[] | undefined;
  /** Where unexpected errors are reported (their details never go to the client). Default stderr. */
  logError?: ((line: string) => void) | undefined;
}

export interface RunningServer {
  /** `http://host:port/` with the port actually bound. */
  url: string;
  host: string;
  port: number;
  checkpoint: CheckpointListing;
  dataset: SampleFolder | undefined;
  server: http.Server;
  close(): Promise<void>;
}

const ALLOWED_METHODS = 'GET, HEAD';

/** The host name of a `Host` header value, lower case, without the port or IPv6 brackets. */
export function hostName(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']') === -1 ? undefined : value.indexOf(']'));
  const colon = value.lastIndexOf(':');
  return colon === -1 || value.indexOf(':') !== colon ? value : value.slice(0, colon);
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const isIpLiteral = (name: string): boolean => IPV4.test(name) || (name.includes(':') && /^[0-9a-f:.]+$/.test(name));

/**
 * Which `Host` headers the server answers: loopback names (`localhost`, `*.localhost`, 127.0.0.1,
 * ::1), the bound address, `extra` names, and, when bound to every interface, any IP address. A
 * DNS-rebinding page always sends its own domain name, which none of these match.
 */
export function hostChecker(boundAddress: string, extra: readonly string[] = []): (header: string | undefined) => boolean {
  const allowed = new Set(['localhost', '127.0.0.1', '::1', boundAddress.toLowerCase(), ...extra.map((h) => hostName(h))]);
  const wildcard = boundAddress === '0.0.0.0' || boundAddress === '::';
  return (header) => {
    if (header === undefined || header.trim() === '') return false;
    const name = hostName(header);
    return allowed.has(name) || name.endsWith('.localhost') || (wildcard && isIpLiteral(name));
  };
}

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
  // Named relative to the working directory when inside it, else by its folder name: responses
  // never reveal where on the machine the files are.
  const relative = checkpointDir === undefined ? '' : path.relative(process.cwd(), checkpointDir);
  const checkpointName =
    checkpointDir === undefined ? '(none)' : relative.startsWith('..') || path.isAbsolute(relative) ? path.basename(checkpointDir) : relative || '.';
  const checkpoint = checkpointWatcher(checkpointDir, checkpointName);
  const checked = await checkpoint();
  const dataset = options.dataDir === undefined ? undefined : await samplesFor(options.dataDir, checkpointDir, checked.config);
  const logError = options.logError ?? ((line: string) => process.stderr.write(`${line}\n`));
  let hostAllowed: (header: string | undefined) => boolean = () => false;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? '';
    const target = req.url ?? '/';
    if (!hostAllowed(req.headers.host)) {
      throw new HttpError(
        403,
        `Host '${String(req.headers.host ?? '').slice(0, 100)}' is not a name of this server; requests must name localhost, ` +
          `127.0.0.1, [::1] or the address it listens on (--allow-host adds a name)`,
      );
    }
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
      const { status } = await checkpoint();
      if (rest.length === 0) {
        sendJson(res, status.available ? 200 : 404, status, head);
        return;
      }
      const name = rest.join('/');
      if (!status.available || checkpointDir === undefined) throw new HttpError(404, status.available ? 'no checkpoint' : status.error);
      if (rest.length !== 1 || !isCheckpointFile(name) || status.files[name] === undefined) {
        throw new HttpError(404, `checkpoint file '${name}' is not served; available: ${Object.keys(status.files).join(', ')}`);
      }
      // Checked again per request: a file swapped for a link after the start is refused too.
      const { file, size } = await resolveInside(checkpointDir, [name]);
      await sendFile(res, file, size, head, { 'Cache-Control': 'no-cache' });
      return;
    }
    if (route === 'dataset' && rest.length === 0) {
      // 200 either way: the page asks on every load, and a 404 would log a console error each time
      const info: DatasetInfo =
        dataset === undefined
          ? { available: false, error: 'no dataset: start the server with --data <image folder>' }
          : { available: true, split: dataset.split, heldOut: dataset.heldOut ?? null, classes: dataset.classes, count: dataset.files.length };
      sendJson(res, 200, info, head);
      return;
    }
    if (route === 'sample' && rest.length === 0) {
      if (dataset === undefined) throw new HttpError(404, 'no dataset: start the server with --data <image folder>');
      if (dataset.files.length === 0) throw new HttpError(404, 'the dataset offers no images');
      const sample = randomSample(dataset);
      // The real path must stay inside the data folder (a link out is refused; a deleted file is a 404).
      const { file, size } = await resolveInside(dataset.root, sample.relativePath.split('/'));
      const headers: SampleHeaders = {
        'X-Vitlens-Label': encodeURIComponent(sample.label),
        'X-Vitlens-Class-Index': String(sample.classIndex),
        'X-Vitlens-Sample': encodeURIComponent(sample.relativePath),
      };
      await sendFile(res, file, size, head, { 'Cache-Control': 'no-store', ...headers });
      return;
    }
    throw new HttpError(404, `no API route /api/${segments.join('/')}; routes: /api/checkpoint[/<file>], /api/dataset, /api/sample`);
  }

  const server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const started = Date.now();
    handle(req, res)
      .catch((error: unknown) => {
        const known = error instanceof HttpError || error instanceof PathRefusedError;
        const status = known ? error.status : 500;
        // Unexpected errors carry paths and internals: they go to the log, the client gets a code.
        const code = (error as NodeJS.ErrnoException | undefined)?.code;
        const message = known ? error.message : `internal server error${typeof code === 'string' ? ` (${code})` : ''}`;
        if (!known) logError(`vitlens serve: ${req.method} ${(req.url ?? '').slice(0, 200)}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        const extra = error instanceof HttpError ? { ...error.headers } : {};
        if (res.headersSent) {
          res.destroy();
          return;
        }
        // A request body is never read (every route is GET/HEAD): answer, then close the
        // connection instead of draining what the client is still sending.
        const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) !== 0;
        if (hasBody || status === 413) {
          extra.Connection = 'close';
          res.once('finish', () => closeUnread(req.socket));
        }
        const body: ApiError = { error: message, status };
        sendJson(res, status, body, req.method === 'HEAD', extra);
      })
      .finally(() => {
        options.logRequest?.(`${req.method} ${(req.url ?? '').slice(0, 200)} ${res.statusCode} ${Date.now() - started}ms`);
      });
  });

  const port = options.port ?? 8080;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, host, port)));
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  hostAllowed = hostChecker(address.address, options.allowedHosts ?? []);
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    checkpoint: checked.status,
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
 * `listen` failures say which port and how to pick another (`vitlens serve` and `pnpm demo` both
 * take `--port`); the original error is the `cause`.
 */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `port ${port} on ${host}`;
  const pick = 'pick another with --port <n>, or --port 0 for any free port';
  if (error.code === 'EADDRINUSE') return new Error(`${where} is already in use (EADDRINUSE); ${pick}`, { cause: error });
  if (error.code === 'EACCES') return new Error(`${where} needs privileges to listen on (EACCES); ${pick} (ports from 1024 need none)`, { cause: error });
  return error;
}

/**
 * Close a connection whose request body will not be read: stop reading, send what is queued (the
 * error response), then drop it. Waiting a moment before the drop lets the client read the answer
 * before a reset; the client's upload stalls meanwhile, as nothing is read.
 */
function closeUnread(socket: Socket): void {
  socket.pause();
  socket.end();
  setTimeout(() => socket.destroy(), 500).unref();
}

/**
 * The images the "random test image" button draws from: the `test` split when the folder has one;
 * otherwise, when the checkpoint records the split it was trained with (trainer_state.json's
 * valPerClass and seed, or average.json's heldOut), only the validation images it held out, so the page never shows a training image.
 */
async function samplesFor(dataDir: string, checkpointDir: string | undefined, config: ViTConfig | undefined): Promise<SampleFolder> {
  const folder = await listSampleFolder(dataDir);
  if (folder.split === 'test' || checkpointDir === undefined) return folder;
  const { valPerClass, seed } = (await heldOutSplitOf(checkpointDir).catch(() => undefined)) ?? {};
  if (valPerClass === undefined || valPerClass === 0 || seed === undefined) return folder;
  // An unusable checkpoint is reported on its own; without its classes every image is offered.
  if (config === undefined) return { ...folder, warning: 'cannot pick the held-out validation images without a usable checkpoint, offering all of them' };
  try {
    return await heldOutSamples(folder, { classNames: classNames(config), valPerClass, seed });
  } catch (error) {
    return { ...folder, warning: `cannot pick the held-out validation images, offering all of them: ${(error as Error).message}` };
  }
}
