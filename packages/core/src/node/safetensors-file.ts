import fs from 'node:fs/promises';
import {
  readSafetensors,
  type SafetensorsContents,
  SafetensorsError,
  type SafetensorsTensor,
  safetensorsChunks,
} from '../safetensors';
import { writeFileAtomic } from './atomic';

/** Read and validate a `.safetensors` file; every error names `path`. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new SafetensorsError(`${path}: cannot read safetensors file: ${why}`, path);
  }
  return readSafetensors(bytes, { source: path });
}

/** Write tensors (and optional `__metadata__`) to `path` atomically: readers never see a torn file. */
export async function writeSafetensorsFile(
  path: string,
  tensors: Map<string, SafetensorsTensor> | Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, safetensorsChunks(tensors, metadata));
}
