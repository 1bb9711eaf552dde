import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImageFolder, writeTinyConfig } from './helpers/image-folder';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let root: string;
let data: string;
let ckpt: string;

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, VITLENS_CACHE_DIR: path.join(root, 'cache') } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('vitlens evaluate', () => {
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-cli-eval-'));
    data = path.join(root, 'data');
    await writeImageFolder(data, 'train', 8, 1);
    await writeImageFolder(data, 'test', 4, 2);
    await writeTinyConfig(path.join(root, 'config.json'));
    const out = path.join(root, 'ckpt');
    const train = await run(['train', '--data', data, '--config', path.join(root, 'config.json'), '--backend', 'wasm', '--val-per-class', '2', '--seed', '9', '--batch-size', '6', '--max-steps', '2', '--out', out, '--no-progress']);
    expect(train.code, train.stderr).toBe(0);
    ckpt = path.join(out, 'last');
  }, 120_000);
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('writes evaluation_results.txt starting with the accuracy line, and the JSON, for the test split', async () => {
    const out = path.join(root, 'results');
    const r = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const text = await fs.readFile(path.join(out, 'evaluation_results.txt'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^Test Set Accuracy: \d{1,3}\.\d\d%$/);
    expect(text).toMatch(/^Split: {7}test$/m);
    expect(text).toMatch(/^Images: {6}12$/m);
    expect(text).toMatch(/Confusion matrix \(rows: true class, columns: predicted class\)/);
    const json = JSON.parse(await fs.readFile(path.join(out, 'evaluation_results.json'), 'utf8'));
    expect(json.count).toBe(12);
    expect(json.perClass.map((c: { name: string; total: number }) => [c.name, c.total])).toEqual([['blue', 4], ['green', 4], ['red', 4]]);
    expect(json.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(12);
    expect(text.split('\n')[0]).toBe(`Test Set Accuracy: ${(100 * json.accuracy).toFixed(2)}%`);
    expect(r.stdout).toMatch(/^Test Set Accuracy: .*\(test, 12 images; top-5 100\.00%\)/);
  }, 60_000);

  it('--split val evaluates the validation images held out by training, with its seed, and says so', async () => {
    const out = path.join(root, 'results-val');
    const r = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--split', 'val', '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const text = await fs.readFile(path.join(out, 'evaluation_results.txt'), 'utf8');
    expect(text).toMatch(/^Split: {7}validation \(held out of 'train': 2 per class, seed 9\)$/m);
    expect(text).toMatch(/^Images: {6}6$/m);
  }, 60_000);

  it('names the problem for a folder that is not a checkpoint', async () => {
    const r = await run(['evaluate', '--checkpoint', path.join(root, 'nope'), '--data', data]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--checkpoint .*nope: not a folder/);
  }, 30_000);
});
