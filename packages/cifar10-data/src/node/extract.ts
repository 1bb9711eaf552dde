import fs from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';

/**
 * Extract a .tar.gz into `destDir` by streaming gunzip + untar (the `tar` package), via a
 * temporary sibling folder that is renamed into place only when every entry is written.
 * `member` names the top folder of the archive to keep (e.g. 'cifar-10-batches-bin').
 */
export async function extractTarGz(archive: string, destDir: string, member: string): Promise<string> {
  const tmp = `${destDir}.extract-${process.pid}-${Date.now()}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  try {
    await tar.x({ file: archive, cwd: tmp, strict: true });
    const extracted = path.join(tmp, member);
    const stat = await fs.stat(extracted).catch(() => null);
    if (!stat?.isDirectory()) {
      const entries = await fs.readdir(tmp);
      throw new Error(`${archive}: expected a top folder "${member}" in the archive, found: ${entries.join(', ') || '(nothing)'}`);
    }
    await fs.rm(destDir, { recursive: true, force: true });
    await fs.rename(extracted, destDir);
    return destDir;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
