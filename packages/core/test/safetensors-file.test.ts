import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsError, writeSafetensors } from '../src/index';
import { readSafetensorsFile, writeSafetensorsFile } from '../src/node/index';

describe('safetensors files (Node)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vitlens-core-st-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a file atomically (no temporary left behind) that reads back identically', async () => {
    const file = path.join(dir, 'nested', 'model.safetensors');
    const tensors = { 'classifier.weight': { dtype: 'F32' as const, shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } };
    await writeSafetensorsFile(file, tensors, { format: 'pt' });
    expect(new Uint8Array(await readFile(file))).toEqual(writeSafetensors(tensors, { format: 'pt' }));
    const back = await readSafetensorsFile(file);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(Array.from(back.tensors.get('classifier.weight')!.data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(await readdir(path.dirname(file))).toEqual(['model.safetensors']);
  });

  it('names the path when the file is missing', async () => {
    const missing = path.join(dir, 'missing.safetensors');
    const error = await readSafetensorsFile(missing).catch((e) => e);
    expect(error).toBeInstanceOf(SafetensorsError);
    expect(error.message).toBe(`${missing}: cannot read safetensors file: no such file`);
  });

  it('names the path when the file is corrupt', async () => {
    const bad = path.join(dir, 'bad.safetensors');
    await writeFile(bad, new Uint8Array([1, 2, 3]));
    await expect(readSafetensorsFile(bad)).rejects.toThrow(`${bad}: 3 bytes is shorter than the 8-byte header length`);
  });
});
