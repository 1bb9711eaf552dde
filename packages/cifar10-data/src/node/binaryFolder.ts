import fs from 'node:fs/promises';
import path from 'node:path';
import { CIFAR10_CLASS_NAMES, CIFAR_SIZE, CIFAR_SPLIT_FILES, concatParts, parseBatchesMeta, parseCifarBatch } from '../binary';
import { DataError } from '../errors';
import type { ImageDataset } from '../types';

/** Does `dir` look like a `cifar-10-batches-bin` folder? */
export async function isBinaryBatchFolder(dir: string): Promise<boolean> {
  for (const name of ['data_batch_1.bin', 'test_batch.bin']) {
    if (await fs.stat(path.join(dir, name)).then((s) => s.isFile(), () => false)) return true;
  }
  return false;
}

/**
 * Load a split of a local `cifar-10-batches-bin` folder: 'train' (data_batch_1..5), 'test'
 * (test_batch) or one file's base name (e.g. 'data_batch_3'). Class names come from
 * `batches.meta.txt` when present.
 */
export async function loadBinaryFolder(dir: string, split: string): Promise<ImageDataset> {
  const files = CIFAR_SPLIT_FILES[split] ?? [`${split}.bin`];
  let classNames: string[] = [...CIFAR10_CLASS_NAMES];
  const metaPath = path.join(dir, 'batches.meta.txt');
  const meta = await fs.readFile(metaPath, 'utf8').catch(() => null);
  if (meta !== null) classNames = parseBatchesMeta(meta, metaPath);
  const parts = [];
  for (const file of files) {
    const full = path.join(dir, file);
    const bytes = await fs.readFile(full).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        throw new DataError(
          `${full}: missing; split "${split}" of a cifar-10-batches-bin folder needs ${files.join(', ')} (valid splits: ${Object.keys(CIFAR_SPLIT_FILES).join(', ')} or a batch file's base name)`,
          full,
          'split',
        );
      }
      throw error;
    });
    parts.push(parseCifarBatch(bytes, { source: full, numClasses: classNames.length }));
  }
  return concatParts(parts, { classNames, height: CIFAR_SIZE, width: CIFAR_SIZE, source: `${dir} (${split})` });
}
