import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeJsonAtomic } from '../src/node/index';

describe('atomic file writes', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vitlens-core-atomic-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates missing folders, replaces the old content, and leaves no temporary file', async () => {
    const file = path.join(dir, 'a', 'b', 'out.bin');
    await writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(file, 'second');
    expect(await readFile(file, 'utf8')).toBe('second');
    expect(await readdir(path.dirname(file))).toEqual(['out.bin']);
  });

  it('writes a list of chunks one after another', async () => {
    const file = path.join(dir, 'chunks.bin');
    await writeFileAtomic(file, [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])]);
    expect(new Uint8Array(await readFile(file))).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('writes pretty JSON with a trailing newline', async () => {
    const file = path.join(dir, 'config.json');
    await writeJsonAtomic(file, { hidden_size: 128, id2label: { '0': 'cat' } });
    expect(await readFile(file, 'utf8')).toBe('{\n  "hidden_size": 128,\n  "id2label": {\n    "0": "cat"\n  }\n}\n');
  });

  it('a failed rename keeps what was there and removes the temporary file', async () => {
    const target = path.join(dir, 'occupied');
    await mkdir(path.join(target, 'child'), { recursive: true });
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
    expect(await readdir(target)).toEqual(['child']);
  });

  it('a failed write removes the temporary file', async () => {
    const sub = path.join(dir, 'badwrite');
    await expect(writeFileAtomic(path.join(sub, 'x.bin'), 42 as unknown as string)).rejects.toThrow();
    expect(await readdir(sub)).toEqual([]);
  });
});
