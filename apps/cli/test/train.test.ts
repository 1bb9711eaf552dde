import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImageFolder, writeTinyConfig } from './helpers/image-folder';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let root: string;
let data: string;
let config: string;

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, VITLENS_CACHE_DIR: path.join(root, 'cache') } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const common = () => ['--data', data, '--config', config, '--backend', 'wasm', '--val-per-class', '2', '--batch-size', '6', '--seed', '7', '--no-progress'];

async function readLines(file: string): Promise<{ type: string; step: number }[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.trim() === '' ? [] : text.trim().split('\n').map((l) => JSON.parse(l));
}

describe('vitlens train', () => {
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-cli-train-'));
    data = path.join(root, 'data');
    config = path.join(root, 'config.json');
    await writeImageFolder(data, 'train', 8, 1);
    await writeTinyConfig(config);
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  // 18 training images in batches of 6: 3 steps per epoch, so --max-steps 2 stops mid-epoch.
  it('with --max-steps writes a checkpoint in HF layout, last and best, and metrics.jsonl', async () => {
    const out = path.join(root, 'run');
    const cache = path.join(root, 'cache');
    const r = await run(['train', ...common(), '--max-steps', '2', '--out', out, '--cache-dir', cache]);
    // the decoded image folder is cached where --cache-dir says
    expect((await fs.readdir(cache, { recursive: true })).length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/18 training, 6 validation images \(2 per class held out, seed 7\)/);
    expect(r.code).toBe(0);
    expect((await fs.readdir(out)).sort()).toEqual(['best', 'last', 'metrics.jsonl', 'step-0000002']);
    expect((await fs.readdir(path.join(out, 'last'))).sort()).toEqual([
      'config.json',
      'model.safetensors',
      'optimizer.safetensors',
      'preprocessor_config.json',
      'trainer_state.json',
    ]);
    const cfg = JSON.parse(await fs.readFile(path.join(out, 'last', 'config.json'), 'utf8'));
    expect(cfg.id2label).toEqual({ 0: 'blue', 1: 'green', 2: 'red' });
    const lines = await readLines(path.join(out, 'metrics.jsonl'));
    expect(lines.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1, 2]);
    expect(lines.at(-1)).toMatchObject({ type: 'epoch', step: 2 });
    expect(r.stderr).toMatch(/done: 2 steps; best val acc \d+\.\d\d%/);
  }, 120_000);

  it('Ctrl-C saves a checkpoint of the current step and exits with 130; --resume continues from it', async () => {
    const out = path.join(root, 'sigint');
    // Batches of 2: 9 steps per epoch, so the interrupt usually lands mid-epoch.
    const child: ChildProcess = spawn(process.execPath, [bin, 'train', ...common(), '--batch-size', '2', '--epochs', '200', '--out', out], {
      env: { ...process.env, VITLENS_CACHE_DIR: path.join(root, 'cache') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait for a few steps to be logged, then interrupt.
    for (let i = 0; i < 600 && (await readLines(path.join(out, 'metrics.jsonl'))).filter((l) => l.type === 'step').length < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/Ctrl-C: saving a checkpoint/);
    const interruptedAt = Number(/interrupted at step (\d+): checkpoint/.exec(stderr)?.[1]);
    expect(interruptedAt).toBeGreaterThanOrEqual(4);
    const state = JSON.parse(await fs.readFile(path.join(out, 'last', 'trainer_state.json'), 'utf8'));
    expect(state.step).toBe(interruptedAt);
    // Steps take milliseconds here, so Ctrl-C may land in the epoch-end validation and save: that
    // epoch checkpoint is then the checkpoint of the current step (the trainer's tests pin both cases).
    expect(state.reason).toBe(interruptedAt % 9 === 0 ? 'epoch' : 'interrupt');
    const resumed = await run(['train', '--data', data, '--backend', 'wasm', '--no-progress', '--resume', '--out', out, '--max-steps', String(state.step + 2)]);
    expect(resumed.stderr).toMatch(new RegExp(`resuming from .*: epoch \\d+, step ${state.step}`));
    expect(resumed.code).toBe(0);
    const after = JSON.parse(await fs.readFile(path.join(out, 'last', 'trainer_state.json'), 'utf8'));
    expect(after.step).toBe(state.step + 2);
  }, 180_000);

  it('--stop-after-epoch stops at that epoch with exit code 0 and keeps the plan; --resume finishes the run on the same schedule', async () => {
    const out = path.join(root, 'chunks');
    const first = await run(['train', ...common(), '--epochs', '3', '--keep', '1', '--stop-after-epoch', '1', '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`stopped after epoch 1 of 3 (--stop-after-epoch 1): checkpoint ${path.join(out, 'epoch-001')}; continue with --resume --out ${out}`);
    expect(first.stderr).not.toMatch(/done:/);
    const paused = JSON.parse(await fs.readFile(path.join(out, 'last', 'trainer_state.json'), 'utf8'));
    expect(paused).toMatchObject({ epoch: 1, step: 3, reason: 'epoch', config: { epochs: 3 } });

    const rest = await run(['train', '--data', data, '--backend', 'wasm', '--no-progress', '--resume', '--out', out]);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toMatch(/done: 9 steps/);
    // One schedule over the 9 planned steps, continued across the stop: the same lr a straight run logs.
    const straightOut = path.join(root, 'chunks-straight');
    expect((await run(['train', ...common(), '--epochs', '3', '--keep', '1', '--out', straightOut])).code).toBe(0);
    const lrs = async (dir: string) =>
      (await readLines(path.join(dir, 'metrics.jsonl'))).filter((l) => l.type === 'step').map((l) => (l as unknown as { lr: number }).lr);
    expect(await lrs(out)).toEqual(await lrs(straightOut));
    expect((await lrs(out)).length).toBe(9);

    const bad = await run(['train', ...common(), '--stop-after-epoch', '0', '--out', path.join(root, 'chunks-bad')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--stop-after-epoch/);
  }, 180_000);

  it('--mixup, --cutmix and --drop-path reach the saved run; --resume refuses a flag that would change the run and accepts the original command', async () => {
    const out = path.join(root, 'mixing');
    const first = await run(['train', ...common(), '--mixup', '0.8', '--cutmix', '1', '--drop-path', '0.1', '--max-steps', '1', '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    const saved = JSON.parse(await fs.readFile(path.join(out, 'last', 'trainer_state.json'), 'utf8'));
    expect(saved.config).toMatchObject({ mixup: 0.8, cutmix: 1, dropPath: 0.1, recipe: 'cifar-scratch' });

    for (const [flag, value, savedValue] of [
      ['--lr', '0.5', '0.001'],
      ['--mixup', '0.2', '0.8'],
      ['--drop-path', '0', '0.1'],
      ['--augment', 'randaugment', '"basic"'],
      ['--recipe', 'cifar-default', '"cifar-scratch"'],
    ]) {
      const changed = await run(['train', '--data', data, '--backend', 'wasm', '--no-progress', '--resume', '--out', out, flag!, value!]);
      expect(changed.code, `${flag} ${value}`).not.toBe(0);
      expect(changed.stderr).toContain(`--resume: ${flag} ${/^[\d.]+$/.test(value!) ? value : JSON.stringify(value)} is not this run's ${savedValue}`);
      expect(changed.stderr).toMatch(/only --epochs, --max-steps, --keep, --save-every, --ema, --micro-batch-size, --mixup-off-epoch and --augment-after may change/);
      expect(changed.stderr).toContain(`--pretrained ${path.join(out, 'step-0000001')}`);
    }
    // Nothing was written by the refused attempts.
    expect((await readLines(path.join(out, 'metrics.jsonl'))).filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1]);

    // The original command repeated with --resume (a new length, steps split in two) continues the run.
    const again = await run(['train', ...common(), '--mixup', '0.8', '--cutmix', '1', '--drop-path', '0.1', '--max-steps', '2', '--micro-batch-size', '3', '--resume', '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming from .*: epoch \d+, step 1/);
    const after = JSON.parse(await fs.readFile(path.join(out, 'last', 'trainer_state.json'), 'utf8'));
    expect(after).toMatchObject({ step: 2, config: { mixup: 0.8, cutmix: 1, dropPath: 0.1, microBatchSize: 3 } });
  }, 120_000);

  it('--mixup-off-epoch stops mixing after that epoch; --resume may move it only for epochs not yet begun', async () => {
    const out = path.join(root, 'mixup-off');
    // 3 steps per epoch: 4 steps finish epoch 1 and begin epoch 2.
    const first = await run(['train', ...common(), '--epochs', '4', '--mixup', '0.8', '--max-steps', '4', '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(out, 'last', 'trainer_state.json'), 'utf8'))).toMatchObject({ epoch: 1, stepInEpoch: 1, config: { mixupOffEpoch: 0 } });

    const resume = ['train', '--data', data, '--backend', 'wasm', '--no-progress', '--resume', '--out', out];
    const early = await run([...resume, '--mixup-off-epoch', '1']);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain('--resume: --mixup-off-epoch 1 would stop mixing in epoch 2, which this run has already trained with it');
    expect(early.stderr).toContain('2 epochs begun); give 2 or more, or 0');

    const later = await run([...resume, '--mixup-off-epoch', '2', '--max-steps', '7']);
    expect(later.code, later.stderr).toBe(0);
    expect(later.stderr).toContain('mixup/CutMix in epochs 1–2; epochs 3–4 train on unmixed images (--mixup-off-epoch 2)');
    expect(JSON.parse(await fs.readFile(path.join(out, 'last', 'trainer_state.json'), 'utf8'))).toMatchObject({ step: 7, config: { mixup: 0.8, mixupOffEpoch: 2 } });

    const unmixed = await run(['train', ...common(), '--mixup-off-epoch', '2', '--out', path.join(root, 'mixup-off-none')]);
    expect(unmixed.code).not.toBe(0);
    expect(unmixed.stderr).toContain('--mixup-off-epoch 2: this run mixes no images (--mixup and --cutmix are 0)');
  }, 120_000);

  it('--augment-after switches the policy for later epochs; --resume may change it only for epochs not yet begun', async () => {
    const out = path.join(root, 'augment-after');
    // 3 steps per epoch: 4 steps finish epoch 1 and begin epoch 2.
    const first = await run(['train', ...common(), '--epochs', '4', '--augment', 'randaugment', '--max-steps', '4', '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(out, 'last', 'trainer_state.json'), 'utf8'))).toMatchObject({ epoch: 1, stepInEpoch: 1, config: { augmentAfter: [] } });

    const resume = ['train', '--data', data, '--backend', 'wasm', '--no-progress', '--resume', '--out', out];
    const early = await run([...resume, '--augment-after', '1:randaugment-m5']);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain('--resume: --augment-after 1:randaugment-m5 would augment epoch 2 with randaugment-m5, which this run has already trained with randaugment');
    expect(early.stderr).toContain("2 epochs begun); switch after epoch 2 or later (the run's switches: (none))");

    const later = await run([...resume, '--augment-after', '2:randaugment-m5', '--augment-after', '3:basic', '--max-steps', '7']);
    expect(later.code, later.stderr).toBe(0);
    expect(later.stderr).toContain('augmentation: randaugment in epochs 1–2, randaugment-m5 in epoch 3, basic in epoch 4 (--augment-after 2:randaugment-m5 3:basic)');
    expect(JSON.parse(await fs.readFile(path.join(out, 'last', 'trainer_state.json'), 'utf8'))).toMatchObject({
      step: 7,
      config: { augment: 'randaugment', augmentAfter: [{ afterEpoch: 2, policy: 'randaugment-m5' }, { afterEpoch: 3, policy: 'basic' }] },
    });

    for (const [value, message] of [
      ['30', "--augment-after expects EPOCH:POLICY with EPOCH ≥ 1 (e.g. 30:randaugment-m5: epochs 31 on use randaugment-m5), got '30'"],
      ['0:basic', "got '0:basic'"],
      ['30:strong', "--augment-after 30:strong: 'strong' is not a policy; valid policies are none, flip, basic"],
    ]) {
      const bad = await run(['train', ...common(), '--augment-after', value!, '--out', path.join(root, 'augment-after-bad')]);
      expect(bad.code, value).not.toBe(0);
      expect(bad.stderr).toContain(message);
    }
    const unordered = await run(['train', ...common(), '--augment-after', '3:basic', '--augment-after', '2:flip', '--out', path.join(root, 'augment-after-bad')]);
    expect(unordered.code).not.toBe(0);
    expect(unordered.stderr).toContain('--augment-after 2:flip comes after 3:basic; give the switches in increasing epoch order');
    await expect(fs.access(path.join(root, 'augment-after-bad'))).rejects.toThrow();
  }, 120_000);

  it('rejects bad flags and values with the valid choices', async () => {
    const bad = await run(['train', '--data', data, '--batch-size', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--batch-size expects a positive integer, got '0'/);
    const model = await run(['train', '--data', data, '--model', 'vit-huge']);
    expect(model.stderr).toMatch(/Allowed choices are vit-base-patch16-224, vit-tiny-patch4-32, vit-mini-patch4-32/);
    const recipe = await run(['train', '--data', data, '--recipe', 'fast']);
    expect(recipe.stderr).toMatch(/Allowed choices are seed-finetune, sgd-finetune, cifar-scratch, cifar-default, cifar-scratch-strong/);
    const resume = await run(['train', '--data', data, '--resume', '--out', path.join(root, 'nothing-here')]);
    expect(resume.stderr).toMatch(/--resume: no complete checkpoint \(with trainer_state.json\) under .*nothing-here/);
    const mixup = await run(['train', '--data', data, '--mixup', '-1']);
    expect(mixup.stderr).toMatch(/--mixup expects a number ≥ 0, got '-1'/);
    const dropPath = await run(['train', '--data', data, '--drop-path', '1']);
    expect(dropPath.stderr).toMatch(/--drop-path expects a number in \[0, 1\), got '1'/);
    const help = await run(['train', '--help']);
    expect(help.stdout).toMatch(/--micro-batch-size <n>/);
    expect(help.stdout).toMatch(/--recipe <name> +training recipe \(default: cifar-scratch\)/);
    expect(help.stdout).toMatch(/--cutmix <alpha>/);
  }, 60_000);
});
