import fs from 'node:fs/promises';
import {
  MAX_HEADER_BYTES,
  parseSafetensorsHeader,
  readSafetensors,
  type SafetensorsContents,
  type SafetensorsHeader,
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

/**
 * Check a `.safetensors` file from its header and size alone, without reading the tensor data:
 * a truncated, padded or garbled file throws a `SafetensorsError` naming `path`. Returns the header.
 */
export async function readSafetensorsFileHeader(path: string): Promise<SafetensorsHeader> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new SafetensorsError(`${path}: cannot read safetensors file: ${why}`, path);
  }
  try {
    const { size } = await handle.stat();
    const length = Buffer.alloc(8);
    const { bytesRead } = await handle.read(length, 0, 8, 0);
    const n = bytesRead === 8 ? length.readBigUInt64LE(0) : 0n;
    // Read no more than the file holds and the format allows; the parser reports what is wrong.
    const want = 8 + Number(n > BigInt(MAX_HEADER_BYTES) || n > BigInt(size) ? 0n : n);
    const prefix = Buffer.alloc(want);
    await handle.read(prefix, 0, want, 0);
    return parseSafetensorsHeader(new Uint8Array(prefix.buffer, prefix.byteOffset, want), size, { source: path });
  } finally {
    await handle.close();
  }
}

/** Write tensors (and optional `__metadata__`) to `path` atomically: readers never see a torn file. */
export async function writeSafetensorsFile(
  path: string,
  tensors: Map<string, SafetensorsTensor> | Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, safetensorsChunks(tensors, metadata));
}
