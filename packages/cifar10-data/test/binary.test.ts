import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CIFAR10_CLASS_NAMES, CIFAR_RECORD_BYTES, DataError, loadCifarBinary, parseBatchesMeta, parseCifarBatch } from '../src/index';
import { syntheticBatchFile } from './helpers';

describe('CIFAR-10 binary batches', () => {
  it('parses records into HWC pixels: the R, G and B planes interleave per pixel', () => {
    const record = new Uint8Array(CIFAR_RECORD_BYTES);
    record[0] = 7;
    record[1 + 0] = 10; // R of pixel (0,0)
    record[1 + 1024] = 20; // G of pixel (0,0)
    record[1 + 2048] = 30; // B of pixel (0,0)
    record[1 + 33] = 40; // R of pixel (1,1)
    const { images, labels, count } = parseCifarBatch(record);
    expect(count).toBe(1);
    expect(labels[0]).toBe(7);
    expect(Array.from(images.subarray(0, 3))).toEqual([10, 20, 30]);
    expect(images[33 * 3]).toBe(40);
  });

  it('round-trips through encodeCifarBatch', () => {
    const { bytes, images, labels } = syntheticBatchFile(5, 'roundtrip');
    const parsed = parseCifarBatch(bytes.buffer as ArrayBuffer);
    expect(parsed.images).toEqual(images);
    expect(parsed.labels).toEqual(labels);
  });

  it('names the file, its size and the record size when a file is truncated', () => {
    const { bytes } = syntheticBatchFile(3, 'trunc');
    const cut = bytes.subarray(0, bytes.length - 100);
    expect(() => parseCifarBatch(cut, { source: 'data_batch_3.bin' })).toThrowError(
      /data_batch_3\.bin: 9119 bytes is not a multiple of 3073 \(1 label \+ 3072 pixels\)/,
    );
    try {
      parseCifarBatch(cut, { source: 'data_batch_3.bin' });
    } catch (error) {
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).file).toBe('data_batch_3.bin');
      expect((error as DataError).field).toBe('size');
    }
  });

  it('rejects an empty file and an oversized file, naming the record count', () => {
    expect(() => parseCifarBatch(new Uint8Array(0), { source: 'empty.bin' })).toThrowError(/empty\.bin: 0 bytes/);
    const { bytes } = syntheticBatchFile(3, 'big');
    expect(() => parseCifarBatch(bytes, { source: 'test_batch.bin', maxRecords: 2 })).toThrowError(
      /test_batch\.bin: 9219 bytes is 3 records of 3073 bytes, more than the 2 a CIFAR-10 batch file holds/,
    );
  });

  it('rejects a label above 9 naming the record and its offset', () => {
    const { bytes } = syntheticBatchFile(3, 'label');
    bytes[2 * CIFAR_RECORD_BYTES] = 10;
    expect(() => parseCifarBatch(bytes, { source: 'data_batch_1.bin' })).toThrowError(
      /data_batch_1\.bin: record 2 \(byte offset 6146\) has label 10; labels must be 0\.\.9/,
    );
  });

  it('reads class names from batches.meta.txt and rejects duplicates', () => {
    expect(parseBatchesMeta('airplane\nautomobile\r\n\nbird\n')).toEqual(['airplane', 'automobile', 'bird']);
    expect(() => parseBatchesMeta('cat\ncat\n', 'meta.txt')).toThrowError(/meta\.txt: class name "cat" appears twice/);
    expect(() => parseBatchesMeta('\n\n', 'meta.txt')).toThrowError(/meta\.txt: no class names/);
  });

  it('loads batches given as ArrayBuffer, Blob and URL (browser path) into one dataset', async () => {
    const a = syntheticBatchFile(4, 'a');
    const b = syntheticBatchFile(3, 'b');
    const c = syntheticBatchFile(2, 'c');
    const server = http.createServer((req, res) => {
      if (req.url === '/c.bin') res.end(Buffer.from(c.bytes));
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const dataset = await loadCifarBinary([a.bytes.slice().buffer as ArrayBuffer, new Blob([b.bytes as Uint8Array<ArrayBuffer>]), `${base}/c.bin`]);
      expect(dataset.count).toBe(9);
      expect(dataset.classNames).toEqual([...CIFAR10_CLASS_NAMES]);
      expect(dataset.images.subarray(0, a.images.length)).toEqual(a.images);
      expect(dataset.images.subarray(a.images.length, a.images.length + b.images.length)).toEqual(b.images);
      expect(dataset.labels.subarray(7)).toEqual(c.labels);
      await expect(loadCifarBinary([`${base}/missing.bin`])).rejects.toThrowError(/missing\.bin: HTTP 404/);
    } finally {
      server.close();
    }
  });
});
