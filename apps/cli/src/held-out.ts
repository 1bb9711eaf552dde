import fs from 'node:fs/promises';
import path from 'node:path';
import { EMA_DIR, readTrainerState, TRAINER_STATE_FILE } from '@vitlens/train-loop';

/** What `vitlens average` writes beside the averaged weights: where they came from. */
export const AVERAGE_FILE = 'average.json';
export const AVERAGE_FORMAT = 'vitlens-average';

/** The validation images a checkpoint's training held out of the `train` split (`vitlens train --val-per-class --seed`). */
export interface HeldOutSplit {
  valPerClass: number;
  seed: number;
  /** The file that says so (a trainer_state.json or an average.json). */
  from: string;
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}

/** The `heldOut` of an average.json, checked; undefined when it records none (its checkpoints held out different images). */
async function heldOutOfAverage(file: string): Promise<HeldOutSplit | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not readable JSON (${(error as Error).message}); expected what \`vitlens average\` writes`);
  }
  const record = parsed as { format?: unknown; heldOut?: { valPerClass?: unknown; seed?: unknown } | null };
  if (typeof parsed !== 'object' || parsed === null || record.format !== AVERAGE_FORMAT) {
    throw new Error(`${file}: format: expected "${AVERAGE_FORMAT}", got ${JSON.stringify(record?.format)}`);
  }
  if (record.heldOut === undefined || record.heldOut === null) return undefined;
  const { valPerClass, seed } = record.heldOut;
  if (!Number.isInteger(valPerClass) || (valPerClass as number) < 0) throw new Error(`${file}: heldOut.valPerClass: expected an integer ≥ 0, got ${JSON.stringify(valPerClass)}`);
  if (!Number.isInteger(seed)) throw new Error(`${file}: heldOut.seed: expected an integer, got ${JSON.stringify(seed)}`);
  return { valPerClass: valPerClass as number, seed: seed as number, from: file };
}

/**
 * The split a checkpoint's training held out, from the first of: its own trainer_state.json; for
 * averaged weights (`<checkpoint>/ema`), the trainer_state.json of the checkpoint around them; the
 * average.json that `vitlens average` writes. Undefined when none says (a checkpoint from
 * elsewhere); a damaged file is an error that names it.
 */
export async function heldOutSplitOf(checkpoint: string): Promise<HeldOutSplit | undefined> {
  const folder = path.resolve(checkpoint);
  const folders = [folder, ...(path.basename(folder) === EMA_DIR ? [path.dirname(folder)] : [])];
  for (const dir of folders) {
    const file = path.join(dir, TRAINER_STATE_FILE);
    if (await isFile(file)) {
      const { valPerClass, seed } = (await readTrainerState(file)).config;
      return { valPerClass, seed, from: file };
    }
  }
  const average = path.join(folder, AVERAGE_FILE);
  return (await isFile(average)) ? heldOutOfAverage(average) : undefined;
}
