import fs from 'node:fs/promises';
import path from 'node:path';
import { readJsonFile, readSafetensorsFileHeader } from '@vitlens/core/node';
import { type ViTConfig, parseConfig, parseProcessorConfig } from '@vitlens/vit-model';
import type { CheckpointFileName, CheckpointListing } from '@vitlens/web/api';
import { resolveInside } from './safe-path';

/** The files of a checkpoint folder the server hands out; nothing else in the folder is served. */
export const CHECKPOINT_FILES = ['config.json', 'preprocessor_config.json', 'model.safetensors'] as const satisfies readonly CheckpointFileName[];
/** Files a checkpoint cannot work without (the processor config falls back to HF defaults). */
const REQUIRED: readonly CheckpointFileName[] = ['config.json', 'model.safetensors'];

/** `checkpointStatus` plus the parsed config.json when the checkpoint is available. */
export type CheckedCheckpoint = { status: CheckpointListing; config?: ViTConfig };

/**
 * Whether the server can hand out a checkpoint folder, checked as the page will use it: the
 * required files exist, every file resolves inside the folder (a link out is refused), config.json
 * and preprocessor_config.json parse and validate, and model.safetensors' header agrees with its
 * size (a truncated file is caught). `display` names the folder in errors (never an absolute path).
 */
export async function checkCheckpoint(dir: string | undefined, display: string): Promise<CheckedCheckpoint> {
  if (dir === undefined) {
    return { status: { available: false, name: display, error: 'no checkpoint configured: start the server with --checkpoint <dir>' } };
  }
  const files: Partial<Record<CheckpointFileName, number>> = {};
  const unavailable = (error: string): CheckedCheckpoint => ({ status: { available: false, name: display, error } });
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
    return unavailable(
      `no checkpoint at ${display}: ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} missing ` +
        `(a checkpoint folder holds ${CHECKPOINT_FILES.join(', ')}); pass --checkpoint <dir>, or drop the files on the page`,
    );
  }
  let config: ViTConfig;
  try {
    for (const name of Object.keys(files)) await resolveInside(dir, [name]);
    config = parseConfig(await readJsonFile(path.join(dir, 'config.json'), `${display}/config.json`), `${display}/config.json`);
    if (files['preprocessor_config.json'] !== undefined) {
      const processor = `${display}/preprocessor_config.json`;
      parseProcessorConfig(await readJsonFile(path.join(dir, 'preprocessor_config.json'), processor), config, processor);
    }
    await readSafetensorsFileHeader(path.join(dir, 'model.safetensors'));
  } catch (error) {
    // Messages name files by the absolute path the readers were given: show the display name instead.
    const message = (error as Error).message.split(dir).join(display);
    return unavailable(`the checkpoint ${display} cannot be served: ${message}`);
  }
  return { status: { available: true, name: display, files }, config };
}

/** What the server can hand out from a checkpoint folder (see `checkCheckpoint`). */
export async function checkpointStatus(dir: string | undefined, display: string): Promise<CheckpointListing> {
  return (await checkCheckpoint(dir, display)).status;
}

/**
 * `checkCheckpoint`, repeated only when one of the files changed (size or modification time), so
 * a checkpoint replaced while the server runs is checked again without re-reading it per request.
 */
export function checkpointWatcher(dir: string | undefined, display: string): () => Promise<CheckedCheckpoint> {
  let key = '';
  let last: Promise<CheckedCheckpoint> | undefined;
  return async () => {
    const stats = await Promise.all(
      CHECKPOINT_FILES.map((name) =>
        dir === undefined ? '' : fs.stat(path.join(dir, name)).then((s) => `${s.size}:${s.mtimeMs}:${s.ino}`, () => '-'),
      ),
    );
    const next = stats.join('|');
    if (last === undefined || next !== key) {
      key = next;
      last = checkCheckpoint(dir, display);
    }
    return last;
  };
}

export function isCheckpointFile(name: string): name is CheckpointFileName {
  return (CHECKPOINT_FILES as readonly string[]).includes(name);
}
