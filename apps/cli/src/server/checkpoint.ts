import fs from 'node:fs/promises';
import path from 'node:path';

/** The files of a checkpoint folder the server hands out; nothing else in the folder is served. */
export const CHECKPOINT_FILES = ['config.json', 'preprocessor_config.json', 'model.safetensors'] as const;
export type CheckpointFileName = (typeof CHECKPOINT_FILES)[number];
/** Files a checkpoint cannot work without (the processor config falls back to HF defaults). */
const REQUIRED: readonly CheckpointFileName[] = ['config.json', 'model.safetensors'];

export type CheckpointStatus =
  | { available: true; name: string; files: Partial<Record<CheckpointFileName, number>> }
  | { available: false; name: string; error: string };

/**
 * What the server can hand out from a checkpoint folder: which of the three files exist (with
 * their sizes), or why it cannot serve a checkpoint at all. `display` names the folder in errors.
 */
export async function checkpointStatus(dir: string | undefined, display: string): Promise<CheckpointStatus> {
  if (dir === undefined) {
    return { available: false, name: display, error: 'no checkpoint configured: start the server with --checkpoint <dir>' };
  }
  const files: Partial<Record<CheckpointFileName, number>> = {};
  for (const name of CHECKPOINT_FILES) {
    try {
      const stat = await fs.stat(path.join(dir, name));
      if (stat.isFile()) files[name] = stat.size;
    } catch {
      // missing: reported below when required
    }
  }
  const missing = REQUIRED.filter((name) => files[name] === undefined);
  if (missing.length > 0) {
    return {
      available: false,
      name: display,
      error:
        `no checkpoint at ${display}: ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing ` +
        `(a checkpoint folder holds ${CHECKPOINT_FILES.join(', ')}); pass --checkpoint <dir>, or drop the files on the page`,
    };
  }
  return { available: true, name: display, files };
}

export function isCheckpointFile(name: string): name is CheckpointFileName {
  return (CHECKPOINT_FILES as readonly string[]).includes(name);
}
