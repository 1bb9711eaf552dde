import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIX_CLASSES, writeImageFolder, writeTinyConfig } from './helpers/image-folder';

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
    // six classes, so that a true class can fall out of the top 5
    await writeImageFolder(data, 'train', 8, 1, SIX_CLASSES);
    await writeImageFolder(data, 'test', 4, 2, SIX_CLASSES);
    await writeTinyConfig(path.join(root, 'config.json'));
    const out = path.join(root, 'ckpt');
    const train = await run(['train', '--data', data, '--config', path.join(root, 'config.json'), '--backend', 'wasm', '--val-per-class', '2', '--seed', '9', '--batch-size', '6', '--max-steps', '2', '--out', out, '--no-progress']);
    expect(train.code, train.stderr).toBe(0);
    ckpt = path.join(out, 'last');
  }, 120_000);
  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('reports for the test split what vitlens predict gives image by image: confusion matrix, top-1, top-5', async () => {
    const out = path.join(root, 'results');
    const r = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const text = await fs.readFile(path.join(out, 'evaluation_results.txt'), 'utf8');
    const json = JSON.parse(await fs.readFile(path.join(out, 'evaluation_results.json'), 'utf8'));
    const names: string[] = json.perClass.map((c: { name: string }) => c.name);
    expect(json.perClass.map((c: { name: string; total: number }) => [c.name, c.total])).toEqual([...SIX_CLASSES].sort().map((n) => [n, 4]));

    // The same checkpoint and images through another path (one decode and forward per image), counted here.
    const p = await run(['predict', '--checkpoint', ckpt, '--image', path.join(data, 'test'), '--json', '--backend', 'wasm']);
    expect(p.code, p.stderr).toBe(0);
    const { images } = JSON.parse(p.stdout) as { images: { image: string; logits: number[] }[] };
    expect(images).toHaveLength(24);
    const confusion = names.map(() => names.map(() => 0));
    let top5 = 0;
    for (const { image, logits } of images) {
      const truth = names.indexOf(path.basename(path.dirname(image)));
      const ranked = logits.map((_, i) => i).sort((a, b) => (logits[b] as number) - (logits[a] as number));
      (confusion[truth] as number[])[ranked[0] as number]! += 1;
      if (ranked.slice(0, 5).includes(truth)) top5++;
    }
    const correct = confusion.reduce((sum, row, i) => sum + (row[i] as number), 0);
    expect(json.count).toBe(24);
    expect(json.confusion).toEqual(confusion);
    expect(json.accuracy).toBe(correct / 24);
    expect(json.top5).toBe(top5 / 24);
    expect(json.perClass.map((c: { correct: number }) => c.correct)).toEqual(confusion.map((row, i) => row[i]));

    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    expect(text.split('\n')[0]).toBe(`Test Set Accuracy: ${pct(correct / 24)}`);
    expect(text).toMatch(/^Split: {7}test$/m);
    expect(text).toMatch(/^Images: {6}24$/m);
    expect(text).toContain(`\nTop-5:       ${pct(top5 / 24)}\n`);
    expect(text).toMatch(/^Backend: {5}wasm$/m);
    expect(text).toMatch(/Confusion matrix \(rows: true class, columns: predicted class\)/);
    expect(r.stdout).toBe(`Test Set Accuracy: ${pct(correct / 24)} (24 images; top-5 ${pct(top5 / 24)})\n`);
  }, 90_000);

  it('records the checkpoint, the data and the command with paths relative to the working directory, never absolute', async () => {
    const out = path.join(root, 'results-paths');
    const r = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const text = await fs.readFile(path.join(out, 'evaluation_results.txt'), 'utf8');
    const json = JSON.parse(await fs.readFile(path.join(out, 'evaluation_results.json'), 'utf8'));
    expect(json.checkpoint).toBe(path.relative(process.cwd(), ckpt));
    expect(json.data).toBe(path.relative(process.cwd(), path.join(data, 'test')));
    expect(text).toContain(`\nCheckpoint:  ${json.checkpoint}\n`);
    expect(text).toContain(`\nData:        ${json.data}\n`);
    for (const p of [json.checkpoint, json.data]) expect(path.isAbsolute(p), p).toBe(false);
    const rel = (p: string) => path.relative(process.cwd(), p);
    expect(json.command).toBe(`vitlens evaluate --checkpoint ${rel(ckpt)} --data ${rel(data)} --out ${rel(out)} --backend wasm --no-progress`);
    expect(text).toContain(`\nCommand:     ${json.command}\n`);
  }, 60_000);

  it('--split val evaluates the validation images held out by training, with its seed, and heads the report with that split', async () => {
    const out = path.join(root, 'results-val');
    const r = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--split', 'val', '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const text = await fs.readFile(path.join(out, 'evaluation_results.txt'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^Validation Accuracy \(held out of 'train': 2 per class, seed 9\): \d{1,3}\.\d\d%$/);
    expect(text).not.toContain('Test Set Accuracy');
    expect(text).toMatch(/^Split: {7}validation \(held out of 'train': 2 per class, seed 9\)$/m);
    expect(text).toMatch(/^Images: {6}12$/m);
    expect(r.stdout).toMatch(/^Validation Accuracy \(held out of 'train': 2 per class, seed 9\): /);
  }, 60_000);

  it('--split trained evaluates the rest of train, the images training used, so fit can be set beside held-out accuracy', async () => {
    const out = path.join(root, 'results-trained');
    const r = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--split', 'trained', '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(await fs.readFile(path.join(out, 'evaluation_results.json'), 'utf8'));
    // 8 training images per class, 2 of them held out by `vitlens train --val-per-class 2 --seed 9`
    expect(json.perClass.map((c: { total: number }) => c.total)).toEqual([6, 6, 6, 6, 6, 6]);
    expect(json).toMatchObject({ count: 36, trainedOn: { from: 'train', heldOutPerClass: 2, seed: 9 } });
    expect(json.heldOut).toBeUndefined();
    const text = await fs.readFile(path.join(out, 'evaluation_results.txt'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^Training Accuracy \(the images trained on: 'train' less 2 per class held out, seed 9\): \d{1,3}\.\d\d%$/);
    expect(text).toMatch(/^Split: {7}trained \(the images of 'train' not held out: 2 per class held out, seed 9\)$/m);

    // It and --split val together are the whole of train, image for image: no image in both.
    const valOut = path.join(root, 'results-trained-val');
    const val = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--split', 'val', '--out', valOut, '--backend', 'wasm', '--no-progress']);
    const all = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--split', 'train', '--out', path.join(root, 'results-trained-all'), '--backend', 'wasm', '--no-progress']);
    expect(val.code, val.stderr).toBe(0);
    expect(all.code, all.stderr).toBe(0);
    const valJson = JSON.parse(await fs.readFile(path.join(valOut, 'evaluation_results.json'), 'utf8'));
    const allJson = JSON.parse(await fs.readFile(path.join(root, 'results-trained-all', 'evaluation_results.json'), 'utf8'));
    expect(json.count + valJson.count).toBe(allJson.count);
    const summed = json.confusion.map((row: number[], t: number) => row.map((n, p) => n + valJson.confusion[t][p]));
    expect(summed).toEqual(allJson.confusion);

    // The averaged weights (<checkpoint>/ema) have no training state of their own: the checkpoint's says.
    const withAverage = path.join(root, 'with-average');
    await fs.cp(ckpt, withAverage, { recursive: true, dereference: true }); // 'last' is a link to the newest checkpoint
    await fs.rm(path.join(withAverage, 'ema'), { recursive: true, force: true });
    await fs.mkdir(path.join(withAverage, 'ema'));
    for (const f of ['config.json', 'model.safetensors', 'preprocessor_config.json']) await fs.copyFile(path.join(ckpt, f), path.join(withAverage, 'ema', f));
    const averaged = await run(['evaluate', '--checkpoint', path.join(withAverage, 'ema'), '--data', data, '--split', 'trained', '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(averaged.code, averaged.stderr).toBe(0);
    expect(averaged.stdout).toMatch(/^Training Accuracy \(the images trained on: 'train' less 2 per class held out, seed 9\): \d{1,3}\.\d\d% \(36 images;/);

    // Without the training state it cannot know what was held out, and says what to give.
    const bare = path.join(root, 'bare-ckpt');
    await fs.cp(ckpt, bare, { recursive: true, dereference: true });
    await fs.rm(path.join(bare, 'trainer_state.json'));
    const refused = await run(['evaluate', '--checkpoint', bare, '--data', data, '--split', 'trained', '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `--split trained: ${bare} has no trainer_state.json (nor an average.json that records one split); give --val-per-class and --seed as used for training`,
    );
    // A damaged one is named, not taken for a missing one.
    await fs.writeFile(path.join(bare, 'trainer_state.json'), '{"format":');
    const damaged = await run(['evaluate', '--checkpoint', bare, '--data', data, '--split', 'val', '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(damaged.code).not.toBe(0);
    expect(damaged.stderr).toContain(`${path.join(bare, 'trainer_state.json')}: not valid JSON`);
  }, 90_000);

  it('evaluates a checkpoint made by vitlens average on the images its sources held out, recorded in its average.json', async () => {
    const soup = path.join(root, 'soup');
    // the checkpoint averaged with itself: the same weights, so the same held-out accuracy
    const averaged = await run(['average', ckpt, ckpt, '--out', soup, '--weights', '1,3', '--backend', 'wasm']);
    expect(averaged.code, averaged.stderr).toBe(0);
    const record = JSON.parse(await fs.readFile(path.join(soup, 'average.json'), 'utf8'));
    expect(record).toMatchObject({ format: 'vitlens-average', version: 1, heldOut: { valPerClass: 2, seed: 9 } });
    expect(record.sources.map((s: { weight: number; distance: number }) => [s.weight, s.distance])).toEqual([
      [0.25, 0],
      [0.75, 0],
    ]);
    expect(await fs.readdir(soup)).not.toContain('trainer_state.json');
    const [fromSoup, fromCheckpoint] = [path.join(root, 'results-soup'), path.join(root, 'results-soup-source')];
    const r = await run(['evaluate', '--checkpoint', soup, '--data', data, '--split', 'val', '--out', fromSoup, '--backend', 'wasm', '--no-progress']);
    const s = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--split', 'val', '--out', fromCheckpoint, '--backend', 'wasm', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Validation Accuracy \(held out of 'train': 2 per class, seed 9\): \d{1,3}\.\d\d% \(12 images;/);
    const [soupJson, sourceJson] = await Promise.all([fromSoup, fromCheckpoint].map(async (d) => JSON.parse(await fs.readFile(path.join(d, 'evaluation_results.json'), 'utf8'))));
    expect(soupJson.confusion).toEqual(sourceJson.confusion);

    // An average.json without a split (its sources disagreed) asks for the flags, like a bare checkpoint.
    await fs.writeFile(path.join(soup, 'average.json'), JSON.stringify({ ...record, heldOut: null }));
    const refused = await run(['evaluate', '--checkpoint', soup, '--data', data, '--split', 'val', '--out', fromSoup, '--backend', 'wasm', '--no-progress']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('(nor an average.json that records one split); give --val-per-class and --seed');
    // A damaged one is named with the field.
    await fs.writeFile(path.join(soup, 'average.json'), JSON.stringify({ ...record, heldOut: { valPerClass: 2, seed: 'nine' } }));
    const damaged = await run(['evaluate', '--checkpoint', soup, '--data', data, '--split', 'val', '--out', fromSoup, '--backend', 'wasm', '--no-progress']);
    expect(damaged.code).not.toBe(0);
    expect(damaged.stderr).toContain(`${path.join(soup, 'average.json')}: heldOut.seed: expected an integer, got "nine"`);
  }, 90_000);

  it('--limit evaluates every class in equal shares (an image folder is sorted by class) and says it is part of the split', async () => {
    const out = path.join(root, 'results-limit');
    // 24 test images, 4 per class in folder order: a plain prefix of 12 would be three classes only.
    const r = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--limit', '12', '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(await fs.readFile(path.join(out, 'evaluation_results.json'), 'utf8'));
    expect(json.perClass.map((c: { total: number }) => c.total)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(json).toMatchObject({ count: 12, subset: { of: 24 } });
    const text = await fs.readFile(path.join(out, 'evaluation_results.txt'), 'utf8');
    expect(text.split('\n')[0]).toMatch(/^Test Set Accuracy on 12 of its 24 images: \d{1,3}\.\d\d%$/);
    expect(text).toMatch(/^Images: {6}12 of 24 \(the first of each class in turn\)$/m);
    expect(r.stdout).toMatch(/^Test Set Accuracy on 12 of its 24 images: /);

    // On the held-out split too; a limit at or above the split's size is the whole split.
    const val = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--split', 'val', '--limit', '6', '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(val.code, val.stderr).toBe(0);
    expect(val.stdout).toMatch(/^Validation Accuracy \(held out of 'train': 2 per class, seed 9\) on 6 of its 12 images: /);
    const all = await run(['evaluate', '--checkpoint', ckpt, '--data', data, '--limit', '100', '--out', out, '--backend', 'wasm', '--no-progress']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^Test Set Accuracy: \d{1,3}\.\d\d% \(24 images;/);
  }, 60_000);

  it('names the problem for a folder that is not a checkpoint', async () => {
    const r = await run(['evaluate', '--checkpoint', path.join(root, 'nope'), '--data', data]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--checkpoint .*nope: not a folder/);
  }, 30_000);
});
