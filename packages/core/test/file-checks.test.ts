import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensorsHeader, writeSafetensors } from '../src/index';
import { readJsonFile, readSafetensorsFileHeader } from '../src/node/index';

describe('checking files without reading them whole', () => {
  let dir = '';
  const bytes = writeSafetensors({ w: { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) } }, { format: 'pt' });
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vitlens-core-checks-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a safetensors header and checks it against the file size', async () => {
    const file = path.join(dir, 'ok.safetensors');
    await writeFile(file, bytes);
    const header = await readSafetensorsFileHeader(file);
    expect(header.entries).toEqual([{ name: 'w', dtype: 'F32', shape: [4, 4], begin: 0, end: 64 }]);
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.dataStart).toBe(bytes.length - 64);
  });

  it('catches a truncated or padded safetensors file from its header and size, naming it', async () => {
    const cut = path.join(dir, 'cut.safetensors');
    await writeFile(cut, bytes.subarray(0, bytes.length - 10));
    await expect(readSafetensorsFileHeader(cut)).rejects.toThrow(/cut\.safetensors: tensor 'w': data_offsets \[0, 64\] are out of range: the data section is 54 bytes/);
    const padded = path.join(dir, 'padded.safetensors');
    await writeFile(padded, Buffer.concat([bytes, Buffer.alloc(8)]));
    await expect(readSafetensorsFileHeader(padded)).rejects.toThrow(/padded\.safetensors: 8 byte\(s\) after the last tensor 'w' are not covered/);
    const tiny = path.join(dir, 'tiny.safetensors');
    await writeFile(tiny, Buffer.from([1, 2, 3]));
    await expect(readSafetensorsFileHeader(tiny)).rejects.toThrow(/tiny\.safetensors: 3 bytes is shorter than the 8-byte header length/);
    expect(() => parseSafetensorsHeader(bytes.subarray(0, 8), bytes.length, { source: 'x' })).toThrow(/given 8 bytes, the header needs/);
  });

  it('reads a JSON file, naming it when it does not parse', async () => {
    const file = path.join(dir, 'config.json');
    await writeFile(file, '{"a": 1}');
    expect(await readJsonFile(file)).toEqual({ a: 1 });
    await writeFile(file, '{"a":');
    await expect(readJsonFile(file, 'run/config.json')).rejects.toThrow(/^run\/config\.json: not valid JSON \(/);
  });
});
