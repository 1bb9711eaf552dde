import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTrainingCheckpoint, readTrainerState } from '@vitlens/train-loop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImageFolder, writeTinyConfig } from './helpers/image-folder';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const killHook = fileURLToPath(new URL('./helpers/kill-after-fs-op.mjs', import.meta.url));
let root: string;
let data: string;
let config: string;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], opts: { env?: Record<string, string>; preload?: boolean } = {}): Promise<Run> {
  const nodeArgs = opts.preload ? ['--import', killHook] : [];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, bin, ...args],
      { encoding: 'utf8', env: { ...process.env, VITLENS_CACHE_DIR: path.join(root, 'cache'), ...opts.env } },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number; signal?: NodeJS.Signals }) | null;
        resolve({ code: e ? (e.code ?? null) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}

const common = (dataDir = data) => ['--data', dataDir, '--config', config, '--backend', 'wasm', '--batch-size', '6', '--seed', '7', '--no-progress'];

/** A copy of the image folder with class folders renamed or added. */
async function variant(name: string, edit: (train: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, name);
  await fs.cp(data, dir, { recursive: true });
  await edit(path.join(dir, 'train'));
  return dir;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-train-safety-'));
  data = path.join(root, 'data');
  config = path.join(root, 'config.json');
  await writeImageFolder(data, 'train', 6, 1); // blue, green, red: 18 images, 3 steps of 6
  await writeTinyConfig(config);
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('vitlens train: the data, the flags and the checkpoint must agree', () => {
  let out: string;
  beforeAll(async () => {
    out = path.join(root, 'run');
    const r = await run(['train', ...common(), '--val-per-class', '1', '--max-steps', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('--resume stops with both class lists when a class folder was renamed or added', async () => {
    const renamed = await variant('renamed', (train) => fs.rename(path.join(train, 'red'), path.join(train, 'crimson')));
    const r = await run(['train', '--data', renamed, '--backend', 'wasm', '--no-progress', '--resume', '--out', out, '--max-steps', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /vitlens: --resume: the data's 3 classes \(blue, crimson, green\) in .* are not the checkpoint's 3 \(blue, green, red\) in .*config\.json \(not in the data: red; new in the data: crimson\)/,
    );
    expect((await readTrainerState(path.join(out, 'last', 'trainer_state.json'))).step).toBe(1); // nothing trained
    const added = await variant('added', async (train) => {
      await fs.cp(path.join(train, 'red'), path.join(train, 'yellow'), { recursive: true });
    });
    const four = await run(['train', '--data', added, '--backend', 'wasm', '--no-progress', '--resume', '--out', out, '--max-steps', '2']);
    expect(four.code).toBe(1);
    expect(four.stderr).toMatch(/the data's 4 classes \(blue, green, red, yellow\) .* are not the checkpoint's 3 \(blue, green, red\)/);
  }, 120_000);

  it("--pretrained stops on other classes unless --replace-head asks for a new head", async () => {
    const renamed = path.join(root, 'renamed');
    const args = ['train', '--data', renamed, '--backend', 'wasm', '--no-progress', '--pretrained', path.join(out, 'last'), '--val-per-class', '1', '--max-steps', '1'];
    const refused = await run([...args, '--out', path.join(root, 'pre-refused')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the data's 3 classes \(blue, crimson, green\) .* are not the checkpoint's 3 \(blue, green, red\) in --pretrained .*; add --replace-head/);
    await expect(fs.stat(path.join(root, 'pre-refused'))).rejects.toThrow(); // no empty output folder
    const replaced = await run([...args, '--replace-head', '--out', path.join(root, 'pre-replaced')]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stderr).toMatch(/replacing the 3-class head of .* with a new one for the data's 3 classes/);
    const saved = JSON.parse(await fs.readFile(path.join(root, 'pre-replaced', 'last', 'config.json'), 'utf8'));
    expect(saved.id2label).toEqual({ 0: 'blue', 1: 'crimson', 2: 'green' });
  }, 120_000);

  it('stops on a one-class folder before creating the output folder', async () => {
    const one = await variant('one-class', async (train) => {
      await fs.rm(path.join(train, 'green'), { recursive: true });
      await fs.rm(path.join(train, 'blue'), { recursive: true });
    });
    const r = await run(['train', ...common(one), '--val-per-class', '1', '--out', path.join(root, 'one-out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1 class \(red\); a classifier needs at least 2 class folders/);
    expect(r.stderr).not.toMatch(/oneHot/);
    await expect(fs.stat(path.join(root, 'one-out'))).rejects.toThrow();
  }, 60_000);

  it('caps --workers at the number of cores and says so', async () => {
    const cores = os.availableParallelism();
    const r = await run(['train', ...common(), '--val-per-class', '1', '--max-steps', '1', '--workers', '99', '--out', path.join(root, 'workers')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`--workers 99: this machine has ${cores} cores; using ${cores}`);
  }, 120_000);

  it('rejects a --config whose image_size, num_labels or id2label would be replaced or ignored', async () => {
    const base = JSON.parse(await fs.readFile(config, 'utf8'));
    const cases: Array<[string, object, RegExp]> = [
      ['size31', { image_size: 31 }, /image_size 31 is not divisible by patch_size 8/],
      ['labels0', { num_labels: 0 }, /num_labels must be a positive integer, got 0/],
      ['labels5', { num_labels: 5 }, /the data's 3 classes \(blue, green, red\) .* are not the config's 5 \(LABEL_0, .*LABEL_4\) in --config .*; set num_labels to the number of class folders/],
      ['dupes', { id2label: { 0: 'red', 1: 'green', 2: 'red' } }, /id2label names 'red' for labels 0 and 2; class names must be distinct/],
    ];
    for (const [name, change, message] of cases) {
      const file = path.join(root, `${name}.json`);
      await fs.writeFile(file, JSON.stringify({ ...base, ...change }));
      const r = await run(['train', '--data', data, '--config', file, '--backend', 'wasm', '--no-progress', '--max-steps', '1', '--out', path.join(root, `cfg-${name}`)]);
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(message);
    }
    // the file's image size is used (not the recipe's 32), and a conflicting flag is an error
    const file16 = path.join(root, 'size16.json');
    await fs.writeFile(file16, JSON.stringify({ ...base, image_size: 16 }));
    const conflict = await run(['train', '--data', data, '--config', file16, '--image-size', '32', '--backend', 'wasm', '--out', path.join(root, 'cfg-conflict')]);
    expect(conflict.stderr).toMatch(/--config .*size16\.json has image_size 16 but --image-size is 32/);
    const ok = await run(['train', ...common(), '--config', file16, '--val-per-class', '1', '--max-steps', '1', '--out', path.join(root, 'cfg-16')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(root, 'cfg-16', 'last', 'config.json'), 'utf8')).image_size).toBe(16);
  }, 180_000);

  it('rejects a seed that is not a 32-bit integer', async () => {
    for (const seed of ['1e20', '4294967296', '-1', '1.5']) {
      const r = await run(['train', '--data', data, '--seed', seed]);
      expect(r.code, seed).not.toBe(0);
      expect(r.stderr).toContain(`--seed expects an integer from 0 to 4294967295, got '${seed}'`);
    }
  }, 60_000);
});

describe('vitlens train: kill -9 aimed at every step of a save', () => {
  const trainArgs = (dir: string, epochs: number) => [
    'train', ...common(), '--val-per-class', '0', '--keep', '1', '--epochs', String(epochs), '--out', dir,
  ];

  /** Every numbered checkpoint present is complete, and so are `last` and `best`. */
  async function expectIntact(dir: string, label: string): Promise<number> {
    for (const name of await fs.readdir(dir)) {
      if (/^(epoch|step)-\d+$/.test(name)) await expect(checkTrainingCheckpoint(path.join(dir, name)), `${label}: ${name}`).resolves.toBeDefined();
    }
    const last = await checkTrainingCheckpoint(path.join(dir, 'last')).catch((e: Error) => {
      throw new Error(`${label}: last does not name a complete checkpoint (${e.message})`);
    });
    await checkTrainingCheckpoint(path.join(dir, 'best')).catch((e: Error) => {
      throw new Error(`${label}: best does not name a complete checkpoint (${e.message})`);
    });
    return last.step;
  }

  it('leaves last and best naming complete checkpoints at every point of the swap and the pruning, and resume finishes the run', async () => {
    // epoch 1 (3 steps) as the starting point; --val-per-class 0 makes every save also the best
    const base = path.join(root, 'kill-base');
    const first = await run(trainArgs(base, 1));
    expect(first.code, first.stderr).toBe(0);
    // a traced run of epoch 2: every file-system change of its save, in order
    const traced = path.join(root, 'kill-trace');
    await fs.cp(base, traced, { recursive: true, verbatimSymlinks: true });
    const traceFile = path.join(root, 'trace.txt');
    const full = await run([...trainArgs(traced, 2), '--resume'], { preload: true, env: { VITLENS_TEST_FS_DIR: traced, VITLENS_TEST_FS_TRACE: traceFile } });
    expect(full.code, full.stderr).toBe(0);
    const ops = (await fs.readFile(traceFile, 'utf8')).trim().split('\n');
    // from the rename that puts epoch-002 in place to the end: the pointer swaps and the pruning
    const start = ops.findIndex((l) => / rename \S+\/\.tmp-epoch-002-\S+ \S+\/epoch-002$/.test(l));
    expect(start, ops.join('\n')).toBeGreaterThan(0);
    const points = ops.slice(start).map((l) => Number(l.split(' ')[0]));
    expect(ops.slice(start).join('\n')).toMatch(/last/);
    expect(ops.slice(start).join('\n')).toMatch(/best/);
    expect(ops.slice(start).join('\n')).toMatch(/epoch-001/); // pruned (keep 1)
    for (const at of points) {
      const dir = path.join(root, `kill-at-${at}`);
      await fs.cp(base, dir, { recursive: true, verbatimSymlinks: true });
      const killed = await run([...trainArgs(dir, 2), '--resume'], { preload: true, env: { VITLENS_TEST_FS_DIR: dir, VITLENS_TEST_KILL_AT: String(at) } });
      expect(killed.signal, `kill at ${ops[at - 1]}: ${killed.stderr}`).toBe('SIGKILL');
      const step = await expectIntact(dir, `killed after ${ops[at - 1]}`);
      expect(step).toBeGreaterThanOrEqual(3); // epoch 1 is never lost
      const resumed = await run([...trainArgs(dir, 2), '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await expectIntact(dir, `resumed after a kill at ${ops[at - 1]}`)).toBe(6);
      expect((await fs.readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
