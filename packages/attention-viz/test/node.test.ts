import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePng, encodePng, readPng, renderFigure, writePng, writeVisualization } from '../src/node/index';
import { argmax, attentionLookingAt } from './helpers';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'attention-viz-'));
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

/** How many pixels in the rectangle are not white. */
function inkIn(image: { data: Uint8ClampedArray; width: number }, x0: number, y0: number, x1: number, y1: number): number {
  let ink = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if ((image.data[(y * image.width + x) * 4] as number) < 128) ink++;
  return ink;
}

describe('PNG files', () => {
  it('round-trip RGB and RGBA pixels at their size', async () => {
    const rgb = { data: Uint8Array.from({ length: 5 * 3 * 3 }, (_, i) => (i * 37) % 256), width: 5, height: 3 };
    const back = decodePng(encodePng(rgb));
    expect([back.width, back.height]).toEqual([5, 3]);
    expect(Array.from(back.data.slice(0, 8))).toEqual([0, 37, 74, 255, 111, 148, 185, 255]);
    const file = path.join(tmp, 'sub', 'x.png');
    await writePng(file, rgb);
    expect((await readPng(file)).data).toEqual(back.data);
    expect((await fs.readdir(path.dirname(file))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('names the file when it is not a PNG', async () => {
    const file = path.join(tmp, 'bad.png');
    await fs.writeFile(file, 'not a png');
    await expect(readPng(file)).rejects.toThrow(`${file}: not a readable PNG`);
  });
});

describe('figure', () => {
  it('lays tiles out in a labelled grid with a title drawn in a bundled font', async () => {
    const tile = { data: new Uint8Array(40 * 30 * 3).fill(0), width: 40, height: 30 };
    const fig = await renderFigure(
      Array.from({ length: 8 }, (_, i) => ({ label: `layer ${i}`, image: tile })),
      { title: 'cat 87.5%', subtitle: 'settings', columns: 4 },
    );
    // 4 columns of 40 px + 5 gaps of 12; title 52 + 12 + 2 rows of (30 + 20 label + 12)
    expect([fig.width, fig.height]).toEqual([12 + 4 * 52, 52 + 12 + 2 * 62]);
    expect(inkIn(fig, 12, 8, 120, 28)).toBeGreaterThan(30); // the title's glyphs
    expect(inkIn(fig, 12, 64 + 30 + 2, 52, 64 + 30 + 20)).toBeGreaterThan(10); // the first label
    expect(inkIn(fig, 12, 64, 52, 94)).toBe(40 * 30); // the first (black) tile
  });
});

describe('writeVisualization', () => {
  it('writes the input, one overlay per layer, rollout, gradient, the figure and the maps, all decodable at the expected size', async () => {
    const target = 1 * 4 + 2; // patch at row 1, column 2 of a 2×4 grid
    const layers = attentionLookingAt(target, { heads: 2, t: 9, layers: 3, seed: 5 });
    const gradients = layers.map((l) => new Float32Array(l.length).fill(1));
    const image = { data: new Uint8Array(16 * 32 * 3).fill(90), width: 32, height: 16 }; // 16×32 with patch 8 → 2×4
    const out = path.join(tmp, 'viz');
    const result = await writeVisualization({
      image,
      attention: { heads: 2, gridHeight: 2, gridWidth: 4, layers, gradients },
      outDir: out,
      title: 'dog 42.0%',
      colormap: 'inferno',
    });
    expect(result.files.map((f) => path.basename(f.path))).toEqual([
      'input.png',
      'cls-layer-00.png',
      'cls-layer-01.png',
      'cls-layer-02.png',
      'rollout.png',
      'gradient.png',
      'figure.png',
      'maps.json',
    ]);
    for (const f of result.files.filter((f) => f.kind !== 'figure' && f.kind !== 'maps')) {
      const png = await readPng(f.path);
      expect([png.width, png.height]).toEqual([32 * 5, 16 * 5]); // enlarged ×5 to reach 160 px
    }
    const fig = await readPng(path.join(out, 'figure.png'));
    expect(fig.width).toBe(12 + 6 * (160 + 12));
    const maps = JSON.parse(await fs.readFile(path.join(out, 'maps.json'), 'utf8'));
    expect(maps.rollout.height).toBe(2);
    expect(maps.rollout.width).toBe(4);
    expect(argmax(maps['cls-layer-02'].data)).toBe(target);
    expect(argmax(maps.rollout.data)).toBe(target);
  });

  it('rejects a layer the model does not have', async () => {
    const layers = attentionLookingAt(0, { heads: 1, t: 5, layers: 2 });
    await expect(
      writeVisualization({
        image: { data: new Uint8Array(8 * 8 * 3), width: 8, height: 8 },
        attention: { heads: 1, gridHeight: 2, gridWidth: 2, layers },
        outDir: path.join(tmp, 'never'),
        layers: [2],
      }),
    ).rejects.toThrow('writeVisualization: layer 2 does not exist; the model has layers 0..1');
  });
});
