import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Write a file so that readers see either the old content or the new, never a torn one:
 * write to a temporary file in the same directory, fsync it, then rename over the target.
 * `data` may be a list of chunks, written one after another (saves concatenating big buffers).
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string | readonly Uint8Array[]): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) {
        await handle.writeFile(data);
      } else {
        for (const chunk of data) {
          // write() may write less than asked; loop until the chunk is out.
          for (let done = 0; done < chunk.length; ) {
            done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
          }
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
  } catch (error) {
    // A failed write or rename (disk full, target is a directory) must not leave the temporary behind.
    await fs.rm(tmp, { force: true });
    throw error;
  }
}

/** `writeFileAtomic` for JSON, pretty-printed with a trailing newline. */
export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}
