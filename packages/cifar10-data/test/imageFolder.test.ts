import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listImageFolder, loadDataset, loadImageFolder, naturalCompare } from '../src/node/index';
import { decodeImage } from '../src/index';
import { cleanupTempDirs, encodeJpeg, encodePng, gradientImage, tempDir, writeFiles } from './helpers';

async function makeFolder(layout: Record<string, Record<string, Uint8Array | string>>): Promise<string> {
  const root = await tempDir('folder');
  for (const [dir, files] of Object.entries(layout)) {
    await writeFiles(
      path.join(root, dir),
      Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, bytes])),
    );
  }
  return root;
}

const png = (shift: number, size = 32) => encodePng(gradientImage(size, size, shift), size, size);
const jpg = (shift: number) => encodeJpeg(gradientImage(32, 32, shift), 32, 32);

describe('image folders', () => {
  afterAll(cleanupTempDirs);

  it('loads <root>/<split>/<class>/* with sorted classes and numerically ordered files', async () => {
    const root = await makeFolder({
      'train/dog': { '10.png': png(10), '2.png': png(2), 'notes.txt': 'ignored' },
      'train/cat': { '1.jpg': jpg(1), '3.jpeg': jpg(3) },
    });
    const cacheDir = await tempDir('cache');
    const ds = await loadDataset(root, { split: 'train', cacheDir, progress: false });
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.count).toBe(4);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1, 1]);
    // dog/2.png comes before dog/10.png
    expect(ds.images.subarray(2 * 3072, 3 * 3072)).toEqual(decodeImage(png(2)).data);
    expect(ds.images.subarray(3 * 3072)).toEqual(decodeImage(png(10)).data);
    expect(ds.source).toBe(path.join(root, 'train'));
  });

  it('accepts the split folder itself as root when its name is the split', async () => {
    const root = await makeFolder({ 'train/cat': { '0.png': png(0) }, 'train/dog': { '0.png': png(1) } });
    const ds = await loadImageFolder(path.join(root, 'train'), { split: 'train', cache: false, progress: false });
    expect(ds.count).toBe(2);
    await expect(loadImageFolder(path.join(root, 'train'), { split: 'test', cache: false })).rejects.toThrowError(
      /holds class folders itself, so it is the split folder "train", not "test"/,
    );
  });

  it('fails on a split folder that does not exist, listing the splits found', async () => {
    const root = await makeFolder({ 'train/cat': { '0.png': png(0) } });
    await expect(loadDataset(root, { split: 'test', cache: false })).rejects.toThrowError(
      new RegExp(`${path.join(root, 'test').replace(/[/\\.]/g, '\\$&')}: split folder "test" does not exist \\(found: train\\)`),
    );
  });

  it('fails on an empty class folder, naming it', async () => {
    const root = await makeFolder({ 'train/cat': { '0.png': png(0) }, 'train/dog': { 'readme.txt': 'no images' } });
    await expect(loadImageFolder(root, { split: 'train', cache: false })).rejects.toThrowError(/train\/dog: class folder "dog" has no \.jpg, \.jpeg or \.png images/);
  });

  it('uses a given class list in its order, and rejects missing or unknown class folders', async () => {
    const root = await makeFolder({ 'train/cat': { '0.png': png(0) }, 'train/dog': { '0.png': png(1) } });
    const ds = await loadImageFolder(root, { split: 'train', classNames: ['dog', 'cat'], cache: false });
    expect(ds.classNames).toEqual(['dog', 'cat']);
    expect(ds.images.subarray(0, 3072)).toEqual(decodeImage(png(1)).data);
    await expect(loadImageFolder(root, { split: 'train', classNames: ['dog', 'cat', 'frog'], cache: false })).rejects.toThrowError(
      /no folder for class\(es\) frog/,
    );
    await expect(loadImageFolder(root, { split: 'train', classNames: ['cat'], cache: false })).rejects.toThrowError(
      /folder\(s\) dog are not in the given class list \(cat\)/,
    );
  });

  it('skips and counts an undecodable image with onBadImage: skip, and names it when failing', async () => {
    const root = await makeFolder({ 'train/cat': { '0.png': png(0), '1.jpg': 'not really a jpeg', '2.png': png(2) } });
    const logs: string[] = [];
    const ds = await loadImageFolder(root, { split: 'train', onBadImage: 'skip', cache: false, log: (m) => logs.push(m) });
    expect(ds.count).toBe(2);
    expect(ds.skipped).toHaveLength(1);
    expect(ds.skipped![0]!.file).toBe(path.join(root, 'train/cat/1.jpg'));
    expect(logs.join('\n')).toMatch(/skipped 1 image\(s\) that do not decode: .*cat\/1\.jpg/);
    await expect(loadImageFolder(root, { split: 'train', onBadImage: 'fail', cache: false })).rejects.toThrowError(/train\/cat\/1\.jpg: not a JPEG or PNG/);
  });

  it('resizes an image that is not 32×32 with a warning, or fails naming it', async () => {
    const root = await makeFolder({ 'train/cat': { '0.png': png(0), 'big.png': png(5, 64) } });
    const logs: string[] = [];
    const ds = await loadImageFolder(root, { split: 'train', cache: false, log: (m) => logs.push(m) });
    expect(ds.count).toBe(2);
    expect(ds.resized).toEqual([path.join(root, 'train/cat/big.png')]);
    expect(logs.join('\n')).toMatch(/warning: resized 1 image\(s\) that were not 32×32: .*big\.png/);
    await expect(loadImageFolder(root, { split: 'train', onWrongSize: 'fail', cache: false })).rejects.toThrowError(
      /train\/cat\/big\.png: image is 64×64, expected 32×32/,
    );
  });

  it('caches decoded arrays keyed by the listing: reused when unchanged, rebuilt when a file changes', async () => {
    const root = await makeFolder({ 'train/cat': { '0.png': png(0), '1.png': png(1) }, 'train/dog': { '0.png': png(2) } });
    const cacheDir = await tempDir('cache');
    const logs: string[] = [];
    const first = await loadImageFolder(root, { split: 'train', cacheDir, log: (m) => logs.push(m) });
    const files = await fs.readdir(path.join(cacheDir, 'image-folders'));
    expect(files).toHaveLength(1);
    logs.length = 0;
    const second = await loadImageFolder(root, { split: 'train', cacheDir, log: (m) => logs.push(m) });
    expect(logs.join('\n')).toMatch(/from the decoded cache/);
    expect(second.images).toEqual(first.images);
    expect(second.labels).toEqual(first.labels);
    expect(second.classNames).toEqual(first.classNames);
    // Replace one file (size and mtime change): the cache key changes and the new pixels appear.
    await fs.writeFile(path.join(root, 'train/dog/0.png'), png(7, 32));
    await fs.utimes(path.join(root, 'train/dog/0.png'), new Date(), new Date(Date.now() + 5000));
    logs.length = 0;
    const third = await loadImageFolder(root, { split: 'train', cacheDir, log: (m) => logs.push(m) });
    expect(logs.join('\n')).not.toMatch(/from the decoded cache/);
    expect(third.images.subarray(2 * 3072)).toEqual(decodeImage(png(7)).data);
  });

  it('decodes on worker threads with the same result and the same skip/resize handling', async () => {
    const files: Record<string, Uint8Array | string> = { 'bad.jpg': 'garbage', 'big.png': png(3, 48) };
    // jpeg-js builds its encoder tables per call (slow), so a few JPEGs are reused
    const jpegs = [jpg(0), jpg(1), jpg(2)];
    files['trunc.jpg'] = jpegs[0]!.subarray(0, 150);
    for (let i = 0; i < 40; i++) files[`${i}.${i % 2 ? 'png' : 'jpg'}`] = i % 2 ? png(i) : jpegs[i % 3]!;
    const root = await makeFolder({ 'train/a': files, 'train/b': { '0.jpg': jpg(9) } });
    const opts = { split: 'train', onBadImage: 'skip' as const, cache: false, progress: false };
    const inThread = await loadImageFolder(root, { ...opts, workers: 0 });
    const threaded = await loadImageFolder(root, { ...opts, workers: 2 });
    expect(threaded.count).toBe(42);
    expect(threaded.images).toEqual(inThread.images);
    expect(threaded.labels).toEqual(inThread.labels);
    expect(threaded.skipped).toEqual(inThread.skipped);
    expect(threaded.skipped!.map((s) => path.basename(s.file))).toEqual(['bad.jpg', 'trunc.jpg']);
    expect(threaded.resized).toEqual([path.join(root, 'train/a/big.png')]);
    await expect(loadImageFolder(root, { ...opts, onBadImage: 'fail', workers: 2 })).rejects.toThrowError(/train\/a\/bad\.jpg: not a JPEG or PNG/);
  });

  it('lists files in natural order', async () => {
    expect(['10.jpg', '9.jpg', '0100.jpg', 'a2.jpg', 'a10.jpg'].sort(naturalCompare)).toEqual(['9.jpg', '10.jpg', '0100.jpg', 'a2.jpg', 'a10.jpg']);
    const root = await makeFolder({ 'train/x': { '11.png': png(0), '1.png': png(1), '2.png': png(2) } });
    const listing = await listImageFolder(root, { split: 'train' });
    expect(listing.files.map((f) => path.basename(f.file))).toEqual(['1.png', '2.png', '11.png']);
  });

  it('explains a spec that is neither cifar10 nor a folder', async () => {
    await expect(loadDataset('/nonexistent/vitlens-data', { split: 'train' })).rejects.toThrowError(
      /\/nonexistent\/vitlens-data: no such file or folder; expected 'cifar10', a cifar-10-batches-bin folder or an image folder/,
    );
  });
});
