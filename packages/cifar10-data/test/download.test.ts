import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_ARCHIVE, NetworkUnavailableError, downloadFile, ensureCifar10, loadDataset } from '../src/node/index';
import { cleanupTempDirs, syntheticBatchFile, tempDir } from './helpers';

interface Served {
  url: string;
  requests: { url: string; range: string | undefined }[];
  /** Break the next N responses after this many body bytes. */
  breakAfter: { bytes: number; times: number } | null;
  body: Uint8Array;
  close: () => Promise<void>;
}

/** A local HTTP server with Range support that can cut a response off mid-file. */
async function serve(body: Uint8Array): Promise<Served> {
  const state: Served = { url: '', requests: [], breakAfter: null, body, close: async () => {} };
  const server = http.createServer((req, res) => {
    state.requests.push({ url: req.url ?? '', range: req.headers.range });
    const data = state.body;
    let start = 0;
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
        res.end();
        return;
      }
      res.writeHead(206, { 'Content-Length': data.length - start, 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` });
    } else {
      res.writeHead(200, { 'Content-Length': data.length });
    }
    const slice = data.subarray(start);
    if (state.breakAfter && state.breakAfter.times > 0) {
      state.breakAfter.times--;
      res.write(Buffer.from(slice.subarray(0, state.breakAfter.bytes)), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(Buffer.from(slice));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar-10-binary.tar.gz`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

/** A small cifar-10-binary.tar.gz with the official layout (a few records per file). */
async function makeArchive(): Promise<{ bytes: Uint8Array; md5: string; trainLabels: Uint8Array }> {
  const dir = await tempDir('archive-src');
  const bin = path.join(dir, 'cifar-10-batches-bin');
  await fs.mkdir(bin);
  const labels: Uint8Array[] = [];
  for (let i = 1; i <= 5; i++) {
    const batch = syntheticBatchFile(3, `batch-${i}`);
    labels.push(batch.labels);
    await fs.writeFile(path.join(bin, `data_batch_${i}.bin`), batch.bytes);
  }
  await fs.writeFile(path.join(bin, 'test_batch.bin'), syntheticBatchFile(4, 'test').bytes);
  await fs.writeFile(path.join(bin, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
  const archive = path.join(dir, 'cifar.tar.gz');
  await tar.c({ gzip: true, file: archive, cwd: dir }, ['cifar-10-batches-bin']);
  const bytes = new Uint8Array(await fs.readFile(archive));
  const trainLabels = new Uint8Array(15);
  for (const [i, l] of labels.entries()) trainLabels.set(l, i * 3);
  return { bytes, md5: createHash('md5').update(bytes).digest('hex'), trainLabels };
}

describe('downloading the binary release (local server)', () => {
  let archive: Awaited<ReturnType<typeof makeArchive>>;
  let server: Served;
  beforeAll(async () => {
    archive = await makeArchive();
    server = await serve(archive.bytes);
  });
  afterAll(async () => {
    await server.close();
    await cleanupTempDirs();
  });

  it('downloads, verifies, extracts, and a second run does not touch the network', async () => {
    const cacheDir = await tempDir('cache');
    server.requests.length = 0;
    const train = await loadDataset('cifar10', { split: 'train', cacheDir, url: server.url, md5: archive.md5, progress: false });
    expect(train.count).toBe(15);
    expect(train.labels).toEqual(archive.trainLabels);
    expect(train.classNames[9]).toBe('truck');
    expect(server.requests).toHaveLength(1);
    const test = await loadDataset('cifar10', { split: 'test', cacheDir, url: server.url, md5: archive.md5, progress: false });
    expect(test.count).toBe(4);
    expect(server.requests).toHaveLength(1);
    expect(await fs.readdir(path.join(cacheDir, 'cifar10'))).toEqual(expect.arrayContaining([CIFAR10_ARCHIVE, 'cifar-10-batches-bin']));
  });

  it('resumes with an HTTP Range request after the connection breaks mid-file', async () => {
    const cacheDir = await tempDir('cache');
    server.requests.length = 0;
    const cut = Math.floor(archive.bytes.length / 3);
    server.breakAfter = { bytes: cut, times: 1 };
    const logs: string[] = [];
    const dest = path.join(cacheDir, 'x.tar.gz');
    await downloadFile(server.url, dest, { md5: archive.md5, progress: false, retryDelayMs: 0, log: (m) => logs.push(m) });
    expect(server.requests.map((r) => r.range)).toEqual([undefined, `bytes=${cut}-`]);
    expect(new Uint8Array(await fs.readFile(dest))).toEqual(archive.bytes);
    expect(logs.join('\n')).toMatch(new RegExp(`resuming at byte ${cut}`));
    await expect(fs.stat(`${dest}.part`)).rejects.toThrow();
  });

  it('keeps the partial file when every attempt breaks, and a later run resumes it', async () => {
    const cacheDir = await tempDir('cache');
    const dest = path.join(cacheDir, 'y.tar.gz');
    server.requests.length = 0;
    server.breakAfter = { bytes: 1000, times: 2 };
    await expect(downloadFile(server.url, dest, { md5: archive.md5, progress: false, retries: 1, retryDelayMs: 0 })).rejects.toThrowError(
      /download failed after 2 attempt\(s\).*partial file .*y\.tar\.gz\.part is kept/,
    );
    expect((await fs.stat(`${dest}.part`)).size).toBe(2000);
    await expect(fs.stat(dest)).rejects.toThrow(); // a partial file never passes for a whole one
    await downloadFile(server.url, dest, { md5: archive.md5, progress: false, retryDelayMs: 0 });
    expect(server.requests.map((r) => r.range)).toEqual([undefined, 'bytes=1000-', 'bytes=2000-']);
    expect(new Uint8Array(await fs.readFile(dest))).toEqual(archive.bytes);
  });

  it('names the partial file when it cannot be written, and does not retry', async () => {
    const cacheDir = await tempDir('cache');
    const dest = path.join(cacheDir, 'z.tar.gz');
    await fs.mkdir(`${dest}.part`); // a folder where the partial file goes
    server.requests.length = 0;
    await expect(downloadFile(server.url, dest, { md5: archive.md5, progress: false, retries: 2, retryDelayMs: 0 })).rejects.toThrowError(
      /z\.tar\.gz\.part: cannot write the download \(EISDIR/,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('removes a download whose checksum does not match', async () => {
    const cacheDir = await tempDir('cache');
    const good = server.body;
    const corrupt = good.slice();
    corrupt[corrupt.length >> 1]! ^= 0xff;
    server.body = corrupt;
    try {
      await expect(
        loadDataset('cifar10', { split: 'train', cacheDir, url: server.url, md5: archive.md5, progress: false }),
      ).rejects.toThrowError(new RegExp(`cifar-10-binary\\.tar\\.gz: MD5 [0-9a-f]{32} does not match the expected ${archive.md5}.*the bad file was removed`));
      expect(await fs.readdir(path.join(cacheDir, 'cifar10'))).toEqual([]);
    } finally {
      server.body = good;
    }
  });

  it('replaces a corrupt archive already in the cache instead of reusing it', async () => {
    const cacheDir = await tempDir('cache');
    await fs.mkdir(path.join(cacheDir, 'cifar10'), { recursive: true });
    await fs.writeFile(path.join(cacheDir, 'cifar10', CIFAR10_ARCHIVE), archive.bytes.subarray(0, 100));
    server.requests.length = 0;
    const logs: string[] = [];
    const dir = await ensureCifar10({ cacheDir, url: server.url, md5: archive.md5, progress: false, log: (m) => logs.push(m) });
    expect(logs.join('\n')).toMatch(/does not match .*removed it, downloading again/);
    expect(server.requests).toHaveLength(1);
    expect(await fs.readdir(dir)).toEqual(expect.arrayContaining(['data_batch_1.bin', 'test_batch.bin']));
  });

  it('uses an archive copied into the cache by hand without any network', async () => {
    const cacheDir = await tempDir('cache');
    await fs.mkdir(path.join(cacheDir, 'cifar10'), { recursive: true });
    await fs.writeFile(path.join(cacheDir, 'cifar10', CIFAR10_ARCHIVE), archive.bytes);
    const ds = await loadDataset('cifar10', { split: 'test', cacheDir, url: 'http://127.0.0.1:9/unreachable', md5: archive.md5, progress: false });
    expect(ds.count).toBe(4);
  });

  it('says there is no network and how to point at a local copy when the connection is refused', async () => {
    const cacheDir = await tempDir('cache');
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const attempt = loadDataset('cifar10', { split: 'train', cacheDir, url: `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`, progress: false });
    await expect(attempt).rejects.toBeInstanceOf(NetworkUnavailableError);
    await expect(
      loadDataset('cifar10', { split: 'train', cacheDir, url: `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`, progress: false }),
    ).rejects.toThrowError(/ECONNREFUSED.*no network here\?.*copy it to .*cifar10\/cifar-10-binary\.tar\.gz.*cifar-10-batches-bin folder/);
  });
});

describe('local cifar-10-batches-bin folders', () => {
  afterAll(cleanupTempDirs);

  it('loads train and test splits, directly or from the parent folder', async () => {
    const root = await tempDir('bin');
    const dir = path.join(root, 'cifar-10-batches-bin');
    await fs.mkdir(dir);
    const batches = [1, 2, 3, 4, 5].map((i) => syntheticBatchFile(2, `f${i}`));
    for (let i = 0; i < 5; i++) await fs.writeFile(path.join(dir, `data_batch_${i + 1}.bin`), batches[i]!.bytes);
    await fs.writeFile(path.join(dir, 'test_batch.bin'), syntheticBatchFile(3, 't').bytes);
    const train = await loadDataset(dir, { split: 'train' });
    expect(train.count).toBe(10);
    expect(train.images.subarray(2 * 3072, 4 * 3072)).toEqual(batches[1]!.images);
    expect((await loadDataset(root, { split: 'test' })).count).toBe(3);
    expect((await loadDataset(dir, { split: 'data_batch_4' })).count).toBe(2);
  });

  it('names a missing batch file and a truncated one', async () => {
    const dir = await tempDir('bin');
    await fs.writeFile(path.join(dir, 'data_batch_1.bin'), syntheticBatchFile(2, 'a').bytes.subarray(0, 5000));
    await expect(loadDataset(dir, { split: 'test' })).rejects.toThrowError(/test_batch\.bin: missing; split "test" of a cifar-10-batches-bin folder needs test_batch\.bin/);
    await expect(loadDataset(dir, { split: 'data_batch_1' })).rejects.toThrowError(/data_batch_1\.bin: 5000 bytes is not a multiple of 3073/);
  });
});
