import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RngState, SafetensorsTensor, tf } from '@vitlens/core';
import { readSafetensorsFile, writeJsonAtomic, writeSafetensorsFile } from '@vitlens/core/node';
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
  /** Best validation accuracy so far and where it was reached. */
  best: { metric: 'val_accuracy'; value: number | null; epoch: number | null; step: number | null };
  /** Why this checkpoint was written. */
  reason: 'epoch' | 'step' | 'interrupt' | 'final';
  /** The full run configuration (recipe after flag overrides). */
  config: TrainConfig;
  /** The last validation summary, when there was one. */
  lastEval?: { loss: number; accuracy: number; epoch: number } | undefined;
  savedAt: string;
}

/** Checkpoint folder names: `epoch-003`, `step-0001200`. */
export function epochDirName(epoch: number): string {
  return `epoch-${String(epoch).padStart(3, '0')}`;
}
export function stepDirName(step: number): string {
  return `step-${String(step).padStart(7, '0')}`;
}

/** Test hook: called between the stages of a save; throwing simulates a crash there. */
export type SaveFault = (stage: 'model' | 'optimizer' | 'state' | 'commit' | 'pointers') => void;

function tmpName(dir: string, name: string): string {
  return path.join(dir, `.tmp-${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** Put the finished folder `src` at `dest`, replacing what was there; readers see the old or the new. */
async function replaceDir(src: string, dest: string): Promise<void> {
  let old: string | undefined;
  if (await exists(dest)) {
    old = tmpName(path.dirname(dest), `old-${path.basename(dest)}`);
    await fs.rename(dest, old);
  }
  await fs.rename(src, dest);
  if (old) await fs.rm(old, { recursive: true, force: true });
}

/** A second name for a finished checkpoint: hard links (copies where links fail), swapped in atomically. */
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
 * (and `best`) at it. `trainer_state.json` is written last, so a folder without it is incomplete.
 * A crash at any point leaves the previous checkpoints untouched. Returns the folder.
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
    await linkDir(dest, path.join(opts.outDir, LAST_DIR));
    if (opts.best) await linkDir(dest, path.join(opts.outDir, BEST_DIR));
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

/** Complete checkpoints (those with a readable trainer state) under `outDir`, oldest step first. */
export async function listCheckpoints(outDir: string): Promise<CheckpointInfo[]> {
  const entries = await fs.readdir(outDir, { withFileTypes: true }).catch(() => []);
  const found: CheckpointInfo[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || !/^(epoch|step)-\d+$/.test(e.name)) continue;
    const dir = path.join(outDir, e.name);
    try {
      found.push({ dir, state: await readTrainerState(path.join(dir, TRAINER_STATE_FILE)) });
    } catch {
      // incomplete or foreign folder: not a resume point
    }
  }
  return found.sort((a, b) => a.state.step - b.state.step || a.dir.localeCompare(b.dir));
}

/**
 * The checkpoint to resume from: `last` when it is complete, else the complete checkpoint with the
 * most steps (a crash between writing a checkpoint and updating `last` loses nothing).
 */
export async function findResumeCheckpoint(outDir: string): Promise<CheckpointInfo | undefined> {
  const candidates = await listCheckpoints(outDir);
  const lastDir = path.join(outDir, LAST_DIR);
  try {
    const state = await readTrainerState(path.join(lastDir, TRAINER_STATE_FILE));
    candidates.push({ dir: lastDir, state });
  } catch {
    // no usable `last`
  }
  candidates.sort((a, b) => a.state.step - b.state.step || Number(a.dir !== lastDir) - Number(b.dir !== lastDir));
  return candidates.at(-1);
}

/** Remove all but the `keep` newest numbered checkpoints (`last` and `best` are separate copies). */
export async function pruneCheckpoints(outDir: string, keep: number): Promise<string[]> {
  if (!(Number.isInteger(keep) && keep > 0)) return [];
  const all = await listCheckpoints(outDir);
  const doomed = all.slice(0, Math.max(0, all.length - keep)).map((c) => c.dir);
  for (const dir of doomed) await fs.rm(dir, { recursive: true, force: true });
  return doomed;
}

/** Remove temporary folders left by a crashed save. */
export async function removeStaleTemporaries(outDir: string): Promise<void> {
  const entries = await fs.readdir(outDir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.isDirectory() && e.name.startsWith('.tmp-')) await fs.rm(path.join(outDir, e.name), { recursive: true, force: true });
  }
}
