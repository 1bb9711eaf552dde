import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from './cli-fixtures';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const shipped = path.join(repoRoot, 'models', 'default');
// Held-out validation images the shipped model was never trained on (the README's figures, one per class).
const figures = path.join(repoRoot, 'results', 'visualizations');
let heldOut: string[];

interface PredictJson {
  images: { image: string; predictions: { label: string; probability: number }[]; logits: number[] }[];
}

let tmp: string;

/** `vitlens predict --json` of every held-out image, all ten classes. */
async function predict(checkpoint: string): Promise<PredictJson> {
  const r = await runBuiltCli(['predict', '--checkpoint', checkpoint, '--image', ...heldOut, '--top', '10', '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as PredictJson;
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-widen-'));
  heldOut = (await fs.readdir(figures)).sort().slice(0, 4).map((name) => path.join(figures, name, 'input.png'));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('vitlens widen (built binary)', () => {
  it('writes the shipped model twice as wide, which predicts the same classes with the same probabilities', async () => {
    expect(heldOut).toHaveLength(4);
    for (const image of heldOut) await fs.access(image);
    const out = path.join(tmp, 'wide');
    const widened = await runBuiltCli(['widen', shipped, '--out', out, '--seed', '3', '--json']);
    const before = JSON.parse(await fs.readFile(path.join(shipped, 'config.json'), 'utf8')) as Record<string, number>;
    const hidden = before.hidden_size as number;
    expect(widened.stderr).toMatch(new RegExp(`widened .*\\(hidden ${hidden}, \\d+ parameters\\) → .*\\(hidden ${2 * hidden}, \\d+ parameters\\)`));
    expect(widened.code).toBe(0);
    const report = JSON.parse(widened.stdout) as { from: { params: number }; to: { params: number; hiddenSize: number }; maxLogitDiff: number };
    expect(report.to.hiddenSize).toBe(2 * hidden);
    expect(report.to.params).toBeGreaterThan(2 * report.from.params);
    expect(report.maxLogitDiff).toBeLessThan(1e-3);
    const config = JSON.parse(await fs.readFile(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    const { num_attention_heads, intermediate_size, num_hidden_layers, patch_size } = before;
    expect(config).toMatchObject({ hidden_size: 2 * hidden, num_attention_heads, intermediate_size, num_hidden_layers, patch_size });

    const [narrow, wide] = [await predict(shipped), await predict(out)];
    narrow.images.forEach((img, i) => {
      const other = wide.images[i]!;
      expect(other.predictions.map((p) => p.label)).toEqual(img.predictions.map((p) => p.label));
      img.logits.forEach((logit, k) => {
        expect(Math.abs(logit - other.logits[k]!)).toBeLessThan(1e-3);
      });
    });
  }, 120_000);

  it('refuses to overwrite a checkpoint folder, and leaves it as it was', async () => {
    const out = path.join(tmp, 'taken');
    await fs.mkdir(out);
    await fs.writeFile(path.join(out, 'config.json'), '{"mine": true}');
    const r = await runBuiltCli(['widen', shipped, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--out .*taken already holds a checkpoint \(config\.json\); choose a new folder \(nothing was written\)/);
    expect(await fs.readFile(path.join(out, 'config.json'), 'utf8')).toBe('{"mine": true}');
    expect(await fs.readdir(out)).toEqual(['config.json']);
  });

  it('names the flag for a factor below 2 and the folder for a missing checkpoint', async () => {
    const factor = await runBuiltCli(['widen', shipped, '--out', path.join(tmp, 'f1'), '--factor', '1']);
    expect(factor.code).not.toBe(0);
    expect(factor.stderr).toMatch(/--factor expects an integer ≥ 2, got '1'/);
    const missing = await runBuiltCli(['widen', path.join(tmp, 'no-such-checkpoint'), '--out', path.join(tmp, 'f2')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no-such-checkpoint/);
    await expect(fs.access(path.join(tmp, 'f2'))).rejects.toThrow();
  });
});

describe('vitlens narrow (built binary)', () => {
  it('undoes vitlens widen: the shipped model widened then narrowed predicts what it predicts', async () => {
    const wide = path.join(tmp, 'narrow-wide');
    const back = path.join(tmp, 'narrow-back');
    expect((await runBuiltCli(['widen', shipped, '--out', wide, '--seed', '5', '--noise-std', '0.1'])).code).toBe(0);
    const narrowed = await runBuiltCli(['narrow', wide, '--out', back, '--json']);
    expect(narrowed.code).toBe(0);
    const before = JSON.parse(await fs.readFile(path.join(shipped, 'config.json'), 'utf8')) as Record<string, number>;
    const hidden = before.hidden_size as number;
    expect(narrowed.stderr).toMatch(new RegExp(`narrowed .*\\(hidden ${2 * hidden}, \\d+ parameters\\) → .*\\(hidden ${hidden}, \\d+ parameters\\)`));
    const report = JSON.parse(narrowed.stdout) as { to: { hiddenSize: number }; maxLogitDiff: number };
    expect(report.to.hiddenSize).toBe(hidden);
    expect(report.maxLogitDiff).toBeLessThan(1e-3);
    const [original, roundTrip] = [await predict(shipped), await predict(back)];
    original.images.forEach((img, i) => {
      img.logits.forEach((logit, k) => {
        expect(Math.abs(logit - roundTrip.images[i]!.logits[k]!)).toBeLessThan(1e-3);
      });
    });
  }, 120_000);

  it('names a factor that does not divide the heads, and refuses to overwrite a checkpoint folder', async () => {
    const config = JSON.parse(await fs.readFile(path.join(shipped, 'config.json'), 'utf8')) as Record<string, number>;
    const headDim = (config.hidden_size as number) / (config.num_attention_heads as number);
    const factor = 3; // the shipped model's heads are 2^k wide
    expect(headDim % factor).not.toBe(0);
    const bad = await runBuiltCli(['narrow', shipped, '--out', path.join(tmp, 'n3'), '--factor', String(factor)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`hidden_size ${config.hidden_size} with ${config.num_attention_heads} heads cannot be split into 3 copies`));
    await expect(fs.access(path.join(tmp, 'n3'))).rejects.toThrow();
    const out = path.join(tmp, 'narrow-taken');
    await fs.mkdir(out);
    await fs.writeFile(path.join(out, 'model.safetensors'), 'mine');
    const taken = await runBuiltCli(['narrow', shipped, '--out', out]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/already holds a checkpoint \(model\.safetensors\)/);
    expect(await fs.readFile(path.join(out, 'model.safetensors'), 'utf8')).toBe('mine');
  });
});
