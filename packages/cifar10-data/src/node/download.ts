import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { DataError } from '../errors';
import { md5File } from './md5';
import { ProgressBar } from './progress';

export interface DownloadOptions {
  /** Expected hex MD5; on mismatch the file is removed and a DataError thrown. */
  md5?: string;
  /** Draw a progress bar on a TTY stderr (default true). */
  progress?: boolean;
  /** Extra attempts after a connection that breaks mid-file; each resumes with HTTP Range (default 3). */
  retries?: number;
  /** Wait before a retry, multiplied by the attempt number (default 1000 ms). */
  retryDelayMs?: number;
  /** Socket inactivity timeout (default 30 s). */
  timeoutMs?: number;
  /** Text for the "no network" error: how to provide the file without a network. */
  offlineHint?: string;
  log?: (msg: string) => void;
}

/** The network could not be reached at all (no route, DNS failure, connection refused). */
export class NetworkUnavailableError extends DataError {
  constructor(message: string, url: string) {
    super(message, url, 'url');
    this.name = 'NetworkUnavailableError';
  }
}

const OFFLINE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

class RetryableError extends Error {}

/**
 * Download `url` to `dest` atomically: bytes go to `dest + '.part'`, which survives a broken
 * connection so the next attempt (in this call or a later one) resumes with an HTTP Range request;
 * only a complete file whose MD5 matches is renamed to `dest`. A mismatching file is deleted.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  const part = `${dest}.part`;
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchToPart(url, part, options, 0);
      break;
    } catch (error) {
      if (error instanceof RetryableError && attempt < retries) {
        const have = await sizeOf(part);
        options.log?.(`${url}: ${error.message}; resuming at byte ${have} (attempt ${attempt + 2} of ${retries + 1})`);
        await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 1000) * (attempt + 1)));
        continue;
      }
      if (error instanceof RetryableError) {
        throw new DataError(
          `${url}: download failed after ${retries + 1} attempt(s): ${error.message}. The partial file ${part} is kept; running again resumes it.`,
          url,
          'download',
        );
      }
      throw error;
    }
  }
  if (options.md5) {
    const actual = await md5File(part);
    if (actual !== options.md5.toLowerCase()) {
      await fs.rm(part, { force: true });
      throw new DataError(
        `${path.basename(dest)}: MD5 ${actual} does not match the expected ${options.md5} (downloaded from ${url}); the bad file was removed, run again to download it afresh`,
        dest,
        'md5',
      );
    }
  }
  await fs.rename(part, dest);
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

async function fetchToPart(url: string, part: string, options: DownloadOptions, redirects: number): Promise<void> {
  const have = await sizeOf(part);
  const response = await request(url, have > 0 ? { Range: `bytes=${have}-` } : {}, options);
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400 && response.headers.location) {
    response.resume();
    if (redirects >= 5) throw new DataError(`${url}: too many redirects`, url, 'url');
    return fetchToPart(new URL(response.headers.location, url).href, part, options, redirects + 1);
  }
  if (status === 416 && have > 0) {
    // The part file already holds every byte (Range starts at the end); the checksum decides.
    response.resume();
    return;
  }
  let append = false;
  if (status === 206) {
    const start = Number(/bytes (\d+)-/.exec(response.headers['content-range'] ?? '')?.[1]);
    if (start !== have) {
      response.resume();
      throw new DataError(`${url}: asked for bytes from ${have}, server sent a range starting at ${response.headers['content-range']}`, url, 'content-range');
    }
    append = true;
  } else if (status !== 200) {
    response.resume();
    throw new DataError(`${url}: HTTP ${status} ${response.statusMessage ?? ''}`.trim(), url, 'status');
  }
  const length = Number(response.headers['content-length']);
  const expected = Number.isFinite(length) ? length : undefined;
  const total = expected !== undefined ? expected + (append ? have : 0) : undefined;
  const bar = new ProgressBar({ label: path.basename(part, '.part'), total, unit: 'bytes', enabled: options.progress ?? true });
  if (append) bar.resumeFrom(have);
  let received = 0;
  const file = createWriteStream(part, { flags: append ? 'a' : 'w' });
  let broke: unknown;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      if (file.destroyed) break; // the file failed: reported below
      received += chunk.length;
      bar.tick(chunk.length);
      if (!file.write(chunk) && !file.destroyed) await once(file, 'drain');
    }
  } catch (error) {
    broke = error;
    response.destroy();
  }
  // Every byte received reaches the disk before this attempt ends, so the next one resumes after
  // them (destroying the file stream with the response, as pipeline() does, drops its buffered writes).
  file.end();
  try {
    await finished(file);
  } catch (error) {
    bar.finish();
    response.destroy();
    throw new DataError(`${part}: cannot write the download (${describe(error)})`, part, 'file');
  }
  if (broke !== undefined) {
    bar.finish();
    throw new RetryableError(`connection broke after ${received} byte(s) of this response (${describe(broke)})`);
  }
  bar.finish();
  if (expected !== undefined && received < expected) {
    throw new RetryableError(`connection closed after ${received} of ${expected} byte(s)`);
  }
}

function describe(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { code?: string; message?: string };
    return e.code ? `${e.code}: ${e.message}` : (e.message ?? String(error));
  }
  return String(error);
}

function request(url: string, headers: Record<string, string>, options: DownloadOptions): Promise<http.IncomingMessage> {
  const get = url.startsWith('https:') ? https.get : url.startsWith('http:') ? http.get : null;
  if (!get) return Promise.reject(new DataError(`${url}: only http and https URLs can be downloaded`, url, 'url'));
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { 'User-Agent': 'vitlens', ...headers } }, resolve);
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(Object.assign(new Error('no data for too long'), { code: 'ETIMEDOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code && OFFLINE_CODES.has(error.code)) {
        reject(
          new NetworkUnavailableError(
            `${url}: cannot reach the server (${describe(error)}); is there no network here?${options.offlineHint ? ` ${options.offlineHint}` : ''}`,
            url,
          ),
        );
      } else {
        reject(new RetryableError(describe(error)));
      }
    });
  });
}
