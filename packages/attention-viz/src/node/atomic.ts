import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

// attention-viz's own atomic write (the same steps as @vitlens/core/node's writeFileAtomic), so this
// package needs no tfjs-bound dependency to write its files.

/**
 * Write `data` to a temporary file in the target's folder (created), fsync it and rename it over
 * `target`: a reader sees the old file or the whole new one, never half of it. A failure removes
 * the temporary file.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}

/** `writeFileAtomic` for JSON, pretty-printed (2 spaces) with a trailing newline. */
export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}
