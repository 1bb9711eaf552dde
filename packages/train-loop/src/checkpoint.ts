import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RngState, SafetensorsTensor, tf } from '@vitlens/core';
import { readJsonFile, readSafetensorsFile, readSafetensorsFileHeader, writeJsonAtomic, writeSafetensorsFile } from '@vitlens/core/node';
import { parseConfig, parseProcessorConfig } from '@vitlens/vit-model';
import { OPTIMIZER_KINDS, type OptimizerKind, type OptimizerState } from './optim/optimizer';
import type { TrainConfig } from './config';

export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const LAST_DIR = 'last';
export const BEST_DIR = 'best';
const FORMAT = 'vitlens-trainer-state';

/** Everything besides weights and optimizer slots that a resumed run needs. */
export interface TrainerState {
  format: typeof FORMAT;
  version: 1;
  /** Epochs fully completed. */
  epoch: number;
  /** Optimizer steps done. */
  step: number;
  /** Batches of epoch `epoch + 1` already done (0 at an epoch boundary). */
  stepInEpoch: number;
  /** The trainer's RNG state at the start of epoch `epoch + 1`: replaying it replays that epoch's batches. */
  epochRngState: RngState;
  /**
   * Best validation accuracy so far and where it was reached: of the raw weights, or of their
   * average (`val_accuracy_ema`, in the checkpoint's `ema/` folder) when that scored higher.
   */
  best: { metric: 'val_accuracy' | 'val_accuracy_ema'; value: number | null; epoch: number | null; step: number | null };
  /** Why this checkpoint was written. */
  reason: 'epoch' | 'step' | 'interrupt' | 'final';
  /** The full run configuration (recipe after flag overrides). */
  config: TrainConfig;
  /** The last validation summary, when there was one. */
  lastEval?: { loss: number; accuracy: number; epoch: number } | undefined;
  /** The average of the weights (`config.ema` > 0): updates folded in, and its last validation. */
  ema?: { updates: number; lastEval: { loss: number; accuracy: number; epoch: number } | null } | undefined;
  savedAt: string;
}

/** The folder inside a checkpoint that holds the averaged weights, in the same HF layout. */
export const EMA_DIR = 'ema';

/** Checkpoint folder names: `epoch-003`, `step-0001200`. */
export function epochDirName(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, '0')}`;
}
export function stepDirName(step: number): string {
  return `step-${String(step).padStart(7, '0')}`;
}

/**
 * Test hook: called between the stages of a save; throwing simulates a crash there. `pointers`
 * comes after the numbered folder is in place and before `last` moves, `best` before `best` moves.
 */
export type SaveFault = (stage: 'model' | 'optimizer' | 'state' | 'commit' | 'pointers' | 'best') => void;

function tmpName(dir: string, name: string): string {
  return path.join(dir, `.tmp-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** `.tmp-old-<name>-<pid>-<hex>`: a folder set aside while `<name>` was replaced (see replaceDir). */
const SET_ASIDE = /^\.tmp-old-(.+)-\d+-[0-9a-f]{8}$/;

async function exists(p: string): Promise<boolean> {
  return fs.lstat(p).then(
    () => true,
    () => false,
  );
}

/**
 * Put the finished folder `src` at `dest`. A folder already at `dest` is renamed aside first and
 * removed only once the new one is in place, so one of the two is complete at every instant (a
 * crash in between is repaired by `recoverCheckpoints`).
 */
async function replaceDir(src: string, dest: string): Promise<void> {
  let old: string | undefined;
  if (await exists(dest)) {
    old = tmpName(path.dirname(dest), `old-${path.basename(dest)}`);
    await fs.rename(dest, old);
  }
  await fs.rename(src, dest);
  if (old) await fs.rm(old, { recursive: true, force: true });
}

/** A second name for a finished checkpoint: hard links (copies where links fail), swapped in. */
async function linkDir(src: string, dest: string): Promise<void> {
  const tmp = tmpName(path.dirname(dest), path.basename(dest));
  await fs.mkdir(tmp, { recursive: true });
  for (const entry of await fs.readdir(src, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const from = path.join(src, entry.name);
    const to = path.join(tmp, entry.name);
    // Files are only ever replaced by rename (new inode), so a hard link never sees a later write.
    await fs.link(from, to).catch(() => fs.copyFile(from, to));
  }
  await replaceDir(tmp, dest);
}

/**
 * Point `<outDir>/<pointer>` (`last`, `best`) at the checkpoint folder `<outDir>/<name>`: a relative
 * symlink made under a temporary name and renamed over the old one, one atomic step, so the
 * pointer names a complete checkpoint at every instant. A `last`/`best` folder from an earlier
 * vitlens (a hard-linked copy) is set aside until the link is in place. Where symlinks cannot be
 * made (Windows without the privilege), falls back to such a copy.
 */
async function pointAt(outDir: string, pointer: string, name: string): Promise<void> {
  const link = path.join(outDir, pointer);
  const tmp = tmpName(outDir, `link-${pointer}`);
  try {
    await fs.symlink(name, tmp, 'dir');
  } catch (error) {
    if (['EPERM', 'EACCES', 'ENOSYS', 'EINVAL'].includes((error as NodeJS.ErrnoException).code ?? '')) {
      await linkDir(path.join(outDir, name), link);
      return;
    }
    throw error;
  }
  const current = await fs.lstat(link).catch(() => undefined);
  if (current?.isDirectory()) await replaceDir(tmp, link);
  else await fs.rename(tmp, link);
}

/** The numbered folder a `last`/`best` symlink names, or undefined (missing, or a folder of its own). */
async function pointerTarget(outDir: string, pointer: string): Promise<string | undefined> {
  try {
    return path.basename(await fs.readlink(path.join(outDir, pointer)));
  } catch {
    return undefined;
  }
}

function optimizerTensors(state: OptimizerState, shapes: Map<string, number[]>): Map<string, SafetensorsTensor> {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [key, data] of state.slots) {
    const param = key.slice(key.indexOf('/') + 1);
    tensors.set(key, { dtype: 'F32', shape: shapes.get(param) ?? [data.length], data });
  }
  return tensors;
}

export interface SaveTrainingCheckpointOptions {
  outDir: string;
  /** Folder name under `outDir`, e.g. `epoch-001`. */
  name: string;
  /** Writes the model's HF files (config.json, preprocessor_config.json, model.safetensors) into a folder. */
  saveModel: (dir: string) => Promise<void>;
  params: Map<string, tf.Variable>;
  optimizer: OptimizerState;
  state: TrainerState;
  /** Also make this the `best` checkpoint. */
  best?: boolean;
  fault?: SaveFault;
}

/**
 * Write a training checkpoint into a temporary folder, then rename it into place and point `last`
 * (and `best`) at it (`pointAt`). A crash at any point leaves the previous checkpoints untouched
 * and `last`/`best` naming complete ones. Returns the folder.
 */
export async function saveTrainingCheckpoint(opts: SaveTrainingCheckpointOptions): Promise<string> {
  const fault = opts.fault ?? (() => {});
  await fs.mkdir(opts.outDir, { recursive: true });
  const tmp = tmpName(opts.outDir, opts.name);
  try {
    await opts.saveModel(tmp);
    fault('model');
    const shapes = new Map([...opts.params].map(([k, v]) => [k, v.shape]));
    await writeSafetensorsFile(path.join(tmp, OPTIMIZER_FILE), optimizerTensors(opts.optimizer, shapes), {
      kind: opts.optimizer.kind,
      step: String(opts.optimizer.step),
    });
    fault('optimizer');
    await writeJsonAtomic(path.join(tmp, TRAINER_STATE_FILE), opts.state);
    fault('state');
    const dest = path.join(opts.outDir, opts.name);
    fault('commit');
    await replaceDir(tmp, dest);
    fault('pointers');
    await pointAt(opts.outDir, LAST_DIR, opts.name);
    if (opts.best) {
      fault('best');
      await pointAt(opts.outDir, BEST_DIR, opts.name);
    }
    return dest;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** Read and check a `trainer_state.json`, naming the file and the field on error. */
export async function readTrainerState(file: string): Promise<TrainerState> {
  const text = await fs.readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const s = raw as Partial<TrainerState>;
  if (s?.format !== FORMAT) throw new Error(`${file}: format must be '${FORMAT}', got ${JSON.stringify(s?.format)}`);
  for (const key of ['epoch', 'step', 'stepInEpoch'] as const) {
    if (!Number.isInteger(s[key]) || (s[key] as number) < 0) throw new Error(`${file}: ${key} must be an integer ≥ 0, got ${JSON.stringify(s[key])}`);
  }
  if (!Array.isArray(s.epochRngState?.s) || s.epochRngState.s.length !== 4) {
    throw new Error(`${file}: epochRngState.s must be four 32-bit integers, got ${JSON.stringify(s.epochRngState?.s)}`);
  }
  if (typeof s.config !== 'object' || s.config === null) throw new Error(`${file}: config must be the run's configuration object`);
  return s as TrainerState;
}

/** Read `optimizer.safetensors` back into an `OptimizerState`. */
export async function readOptimizerState(file: string): Promise<OptimizerState> {
  const { tensors, metadata } = await readSafetensorsFile(file);
  const kind = metadata.kind as OptimizerKind;
  if (!OPTIMIZER_KINDS.includes(kind)) {
    throw new Error(`${file}: metadata.kind must be one of ${OPTIMIZER_KINDS.join(', ')}, got ${JSON.stringify(metadata.kind)}`);
  }
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new Error(`${file}: metadata.step must be an integer ≥ 0, got ${JSON.stringify(metadata.step)}`);
  const slots = new Map<string, Float32Array>();
  for (const [key, t] of tensors) {
    if (t.dtype !== 'F32') throw new Error(`${file}: tensor '${key}' has dtype ${t.dtype}, expected F32`);
    slots.set(key, t.data as Float32Array);
  }
  return { kind, step, slots };
}

export interface CheckpointInfo {
  dir: string;
  state: TrainerState;
}

/** The files of a training checkpoint folder; all of them must be present and readable. */
export const TRAINING_CHECKPOINT_FILES = ['config.json', 'preprocessor_config.json', 'model.safetensors', OPTIMIZER_FILE, TRAINER_STATE_FILE] as const;

/**
 * Check that `dir` is a complete training checkpoint: every file of `TRAINING_CHECKPOINT_FILES`
 * present and readable (the JSON files parse and validate, the safetensors headers agree with the
 * files' sizes), and `ema/` too when the trainer state says the run keeps an average. Returns its
 * trainer state; throws naming the first file that is not.
 */
export async function checkTrainingCheckpoint(dir: string): Promise<TrainerState> {
  const state = await readTrainerState(path.join(dir, TRAINER_STATE_FILE));
  const configFile = path.join(dir, 'config.json');
  const config = parseConfig(await readJsonFile(configFile), configFile);
  const processorFile = path.join(dir, 'preprocessor_config.json');
  parseProcessorConfig(await readJsonFile(processorFile), config, processorFile);
  await readSafetensorsFileHeader(path.join(dir, 'model.safetensors'));
  await readSafetensorsFileHeader(path.join(dir, OPTIMIZER_FILE));
  if (state.ema) {
    // the average of the weights, when the run keeps one: a model folder of its own
    const emaConfig = path.join(dir, EMA_DIR, 'config.json');
    parseConfig(await readJsonFile(emaConfig), emaConfig);
    await readSafetensorsFileHeader(path.join(dir, EMA_DIR, 'model.safetensors'));
  }
  return state;
}

/** Complete checkpoints (`checkTrainingCheckpoint`) in the numbered folders under `outDir`, oldest step first. */
export async function listCheckpoints(outDir: string): Promise<CheckpointInfo[]> {
  const entries = await fs.readdir(outDir, { withFileTypes: true }).catch(() => []);
  const found: CheckpointInfo[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !/^(epoch|step)-\d+$/.test(e.name)) continue;
    const dir = path.join(outDir, e.name);
    try {
      found.push({ dir, state: await checkTrainingCheckpoint(dir) });
    } catch {
      // incomplete or foreign folder: not a resume point
    }
  }
  return found.sort((a, b) => a.state.step - b.state.step || a.dir.localeCompare(b.dir));
}

/**
 * The checkpoint to resume from: the complete checkpoint with the most steps (a crash between
 * writing a checkpoint and moving `last` loses nothing), the numbered folder rather than a `last`
 * copy on a tie. A `last` link is not listed twice: the folder it names is.
 */
export async function findResumeCheckpoint(outDir: string): Promise<CheckpointInfo | undefined> {
  const candidates = await listCheckpoints(outDir);
  const lastDir = path.join(outDir, LAST_DIR);
  if ((await pointerTarget(outDir, LAST_DIR)) === undefined) {
    try {
      candidates.push({ dir: lastDir, state: await checkTrainingCheckpoint(lastDir) });
    } catch {
      // no usable `last` folder
    }
  }
  candidates.sort((a, b) => a.state.step - b.state.step || Number(a.dir !== lastDir) - Number(b.dir !== lastDir));
  return candidates.at(-1);
}

/** Remove a folder by renaming it out of the way first, so a crash never leaves half of it under its name. */
async function removeDir(dir: string): Promise<void> {
  const aside = tmpName(path.dirname(dir), `pruned-${path.basename(dir)}`);
  await fs.rename(dir, aside);
  await fs.rm(aside, { recursive: true, force: true });
}

/**
 * Remove all but the `keep` newest numbered checkpoints, never one that `last` or `best` names.
 * Each is renamed aside before it is deleted. Returns the folders removed.
 */
export async function pruneCheckpoints(outDir: string, keep: number): Promise<string[]> {
  if (!(Number.isInteger(keep) && keep > 0)) return [];
  const all = await listCheckpoints(outDir);
  const named = new Set([await pointerTarget(outDir, LAST_DIR), await pointerTarget(outDir, BEST_DIR)]);
  const doomed = all
    .slice(0, Math.max(0, all.length - keep))
    .map((c) => c.dir)
    .filter((dir) => !named.has(path.basename(dir)));
  for (const dir of doomed) await removeDir(dir);
  return doomed;
}

async function isComplete(dir: string): Promise<TrainerState | undefined> {
  return checkTrainingCheckpoint(dir).catch(() => undefined);
}

/**
 * Repair what a crash (kill -9, power loss) can leave behind, before anything is removed:
 * - a numbered checkpoint missing or incomplete while a complete copy of it sits set aside
 *   (`.tmp-old-<name>-…`, from an interrupted replace) gets that copy back;
 * - `last` points at the complete checkpoint with the most steps, `best` at the one that
 *   checkpoint's trainer state names as the best, whatever a crash left them as (missing, a link to
 *   nothing, an incomplete folder, or one save behind). When no such checkpoint exists, a complete
 *   `last`/`best` folder set aside by an interrupted swap (earlier vitlens versions kept copies
 *   there) is put back.
 * Returns one line per repair.
 */
export async function recoverCheckpoints(outDir: string): Promise<string[]> {
  const repairs: string[] = [];
  const entries = await fs.readdir(outDir, { withFileTypes: true }).catch(() => []);
  const setAside = new Map<string, string[]>();
  for (const e of entries) {
    const name = SET_ASIDE.exec(e.name)?.[1];
    if (name !== undefined && e.isDirectory()) setAside.set(name, [...(setAside.get(name) ?? []), path.join(outDir, e.name)]);
  }
  const restore = async (name: string): Promise<boolean> => {
    for (const aside of setAside.get(name) ?? []) {
      if ((await isComplete(aside)) === undefined) continue;
      const target = path.join(outDir, name);
      if (await exists(target)) await removeDir(target);
      await fs.rename(aside, target);
      repairs.push(`restored ${target} from ${path.basename(aside)}, set aside by an interrupted save`);
      return true;
    }
    return false;
  };
  for (const name of setAside.keys()) {
    if (/^(epoch|step)-\d+$/.test(name) && (await isComplete(path.join(outDir, name))) === undefined) await restore(name);
  }
  const complete = await listCheckpoints(outDir);
  const newest = complete.at(-1);
  for (const pointer of [LAST_DIR, BEST_DIR]) {
    const link = path.join(outDir, pointer);
    const present = await exists(link);
    const current = present ? await isComplete(link) : undefined;
    const bestStep = newest?.state.best.step ?? null;
    const wanted = pointer === LAST_DIR || bestStep === null ? newest : complete.find((c) => c.state.step === bestStep);
    if (wanted === undefined) {
      if (current === undefined) await restore(pointer);
      continue;
    }
    // Already right: a link or (older versions) a copy of the wanted checkpoint.
    if (current !== undefined && current.step === wanted.state.step) continue;
    await pointAt(outDir, pointer, path.basename(wanted.dir));
    const was = !present ? 'missing' : current === undefined ? 'incomplete' : `at step ${current.step}`;
    repairs.push(`pointed ${link} at ${path.basename(wanted.dir)} (step ${wanted.state.step}): it was ${was}`);
  }
  return repairs;
}

/** Remove what a crashed save leaves behind: temporary folders, links and files (call `recoverCheckpoints` first). */
export async function removeStaleTemporaries(outDir: string): Promise<void> {
  const entries = await fs.readdir(outDir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    // `.tmp-…` from saves and prunes; `.<file>.<pid>.<hex>.tmp` from writeFileAtomic
    if (e.name.startsWith('.tmp-') || /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/.test(e.name)) {
      await fs.rm(path.join(outDir, e.name), { recursive: true, force: true });
    }
  }
}
