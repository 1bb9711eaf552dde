import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readSafetensors, tensorToFloat32 } from '@vitlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from './cli-fixtures';
import { writeImageFolder, writeTinyConfig } from './helpers/image-folder';

// The CLI on the native `tensorflow` backend (tfjs-node with the addon `pnpm native` builds), and
// against wasm on the same checkpoint and images.
let root: string;
let data: string;
let config: string;

const run = (args: string[]) => runBuiltCli(args, { VITLENS_CACHE_DIR: path.join(root, 'cache') });

const trainArgs = (out: string, maxSteps: number) => [
  'train', '--data', data, '--config', config, '--backend', 'tensorflow', '--val-per-class', '2',
  '--batch-size', '6', '--seed', '5', '--max-steps', String(maxSteps), '--out', out, '--no-progress',
];

async function weights(dir: string): Promise<Map<string, Float32Array>> {
  const { tensors } = readSafetensors(new Uint8Array(await fs.readFile(path.join(dir, 'model.safetensors'))));
  return new Map([...tensors].map(([k, t]) => [k, tensorToFloat32(t)]));
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('vitlens on the native tensorflow backend', () => {
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-cli-native-'));
    data = path.join(root, 'data');
    await writeImageFolder(data, 'train', 8, 1);
    await writeImageFolder(data, 'test', 3, 2);
    config = path.join(root, 'config.json');
    await writeTinyConfig(config);
  });
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('info names libtensorflow and its version', async () => {
    const r = await run(['info', '--json', '--backend', 'tensorflow']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ backend: 'tensorflow', backendModule: '@tensorflow/tfjs-node' });
    expect(info.tensorflow).toMatch(/^2\.\d+\.\d+/);
  });

  // (Bit-identical resume on tensorflow is proven at the trainer level: train-loop's trainer.test.ts
  // runs again as the vitest project 'tensorflow'.)
  it('trains, and --resume continues a run from its last checkpoint', async () => {
    const part = await run(trainArgs(path.join(root, 'run'), 2));
    expect(part.code, part.stderr).toBe(0);
    expect(part.stderr).toContain('backend: tensorflow');
    const first = await weights(path.join(root, 'run', 'last'));
    const resumed = await run(['train', '--data', data, '--backend', 'tensorflow', '--resume', '--max-steps', '4', '--out', path.join(root, 'run'), '--no-progress']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const state = JSON.parse(await fs.readFile(path.join(root, 'run', 'last', 'trainer_state.json'), 'utf8'));
    expect(state.step).toBe(4);
    const after = await weights(path.join(root, 'run', 'last'));
    expect(maxDiff(after.get('classifier.weight')!, first.get('classifier.weight')!)).toBeGreaterThan(0);
    for (const [name, values] of after) expect(values.every(Number.isFinite), name).toBe(true);
  });

  it('predict gives the logits of wasm for the same checkpoint and images (to 1e-4)', async () => {
    const ckpt = path.join(root, 'run', 'last');
    const images = path.join(data, 'test');
    const [tfRun, wasmRun] = [
      await run(['predict', '--checkpoint', ckpt, '--image', images, '--json', '--top', '3', '--backend', 'tensorflow']),
      await run(['predict', '--checkpoint', ckpt, '--image', images, '--json', '--top', '3', '--backend', 'wasm']),
    ];
    expect(tfRun.code, tfRun.stderr).toBe(0);
    expect(wasmRun.code, wasmRun.stderr).toBe(0);
    const [nativeOut, wasmOut] = [JSON.parse(tfRun.stdout), JSON.parse(wasmRun.stdout)];
    expect([nativeOut.backend, wasmOut.backend]).toEqual(['tensorflow', 'wasm']);
    const [native, wasm] = [nativeOut.images, wasmOut.images];
    expect(native.length).toBe(9);
    expect(native.map((p: { image: string }) => p.image)).toEqual(wasm.map((p: { image: string }) => p.image));
    native.forEach((p: { logits: number[] }, i: number) => {
      expect(maxDiff(p.logits, wasm[i].logits), `image ${i}`).toBeLessThan(1e-4);
    });
  });

  it('evaluate on tensorflow reports what evaluate on wasm reports', async () => {
    const ckpt = path.join(root, 'run', 'last');
    const reports = [];
    for (const backend of ['tensorflow', 'wasm']) {
      const out = path.join(root, `eval-${backend}`);
      const r = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--out', out, '--backend', backend, '--no-progress']);
      expect(r.code, r.stderr).toBe(0);
      reports.push(JSON.parse(await fs.readFile(path.join(out, 'evaluation_results.json'), 'utf8')));
    }
    const [native, wasm] = reports;
    expect(native.backend).toBe('tensorflow');
    expect(native.count).toBe(9);
    expect(native.confusion).toHaveLength(3);
    expect(native.confusion).toEqual(wasm.confusion);
    expect(native.accuracy).toBe(wasm.accuracy);
    expect(native.top5).toBe(wasm.top5);
    expect(native.meanLoss).toBeCloseTo(wasm.meanLoss, 4);
  });

  it('visualize draws the maps of wasm: every layer, rollout and the gradient map (to 1e-4)', async () => {
    const ckpt = path.join(root, 'run', 'last');
    const image = path.join(data, 'test', 'red', (await fs.readdir(path.join(data, 'test', 'red'))).sort()[0]!);
    const maps = [];
    for (const backend of ['tensorflow', 'wasm']) {
      const out = path.join(root, `viz-${backend}`);
      const r = await run(['visualize', '--checkpoint', ckpt, '--image', image, '--out', out, '--backend', backend]);
      expect(r.code, r.stderr).toBe(0);
      const [dir] = await fs.readdir(out);
      maps.push(JSON.parse(await fs.readFile(path.join(out, dir!, 'maps.json'), 'utf8')) as Record<string, { data: number[] }>);
    }
    const [native, wasm] = maps as [Record<string, { data: number[] }>, Record<string, { data: number[] }>];
    expect(Object.keys(native)).toEqual(Object.keys(wasm));
    expect(Object.keys(native)).toEqual(expect.arrayContaining(['rollout', 'gradient']));
    for (const name of Object.keys(native)) expect(maxDiff(native[name]!.data, wasm[name]!.data), name).toBeLessThan(1e-4);
  });

  it('refuses --workers on tensorflow before it loads any data, and says why', async () => {
    const r = await run(['train', '--data', path.join(root, 'no-such-folder'), '--backend', 'tensorflow', '--workers', '2', '--no-progress']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("--workers 2: data-parallel workers run on the wasm or cpu backend, not 'tensorflow'");
    expect(r.stderr).not.toContain('no-such-folder');
  });
});
