import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionDataToJson } from '../src/index';
import { encodePng } from '../src/node/index';
import { attentionLookingAt } from './helpers';

// A real browser: Debian's Chromium driven by playwright-core (no browser download).
const CHROMIUM = process.env.VITLENS_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

const grid = { heads: 4, gridHeight: 8, gridWidth: 8 };
const target = 2 * 8 + 5; // patch row 2, column 5 → pixels x 20..23, y 8..11 of a 32×32 image
const attention = attentionDataToJson({ ...grid, layers: attentionLookingAt(target, { heads: 4, t: 65, layers: 3, seed: 3 }) });

let server: http.Server;
let browser: Browser;
let page: Page;
let base: string;

beforeAll(async () => {
  // the package's browser entry, bundled as the page would get it from a bundler
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    write: false,
    platform: 'browser',
    target: 'es2022',
  });
  const js = bundle.outputFiles[0]?.text ?? '';
  const png = encodePng({ data: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 });
  const routes: Record<string, [string, string | Uint8Array]> = {
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>vit-attention-map</title><body></body>'],
    '/attention-viz.js': ['text/javascript', js],
    '/gray.png': ['image/png', png],
  };
  server = http.createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': route[0] }).end(route[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/`);
  await page.addScriptTag({ type: 'module', content: `import * as viz from '${base}/attention-viz.js'; window.viz = viz;` });
  await page.waitForFunction(() => 'viz' in window);
  expect(errors).toEqual([]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** In the page: per-patch mean brightness of a 32×32 canvas → [argmax patch, distinct values]. */
const readCanvas = `(canvas) => {
  const ctx = canvas.getContext('2d');
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const cell = width / 8;
  const sums = new Array(64).fill(0);
  const distinct = new Set();
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const v = data[(y * width + x) * 4];
    distinct.add(v);
    sums[Math.floor(y / cell) * 8 + Math.floor(x / cell)] += v;
  }
  return { width, height, hot: sums.indexOf(Math.max(...sums)), distinct: distinct.size, alpha: data[3] };
}`;

describe('<vit-attention-map> in Chromium', () => {
  it('is not registered until defineAttentionMapElement() is called', async () => {
    expect(await page.evaluate(() => customElements.get('vit-attention-map') === undefined)).toBe(true);
    expect(await page.evaluate(() => typeof (window as never as { viz: { defineAttentionMapElement: () => unknown } }).viz.defineAttentionMapElement())).toBe('function');
    expect(await page.evaluate(() => customElements.get('vit-attention-map') !== undefined)).toBe(true);
  });

  it('draws the CLS map over the image with the hot patch where the attention looks (properties)', async () => {
    const result = await page.evaluate(
      async ([data, read]) => {
        const el = document.createElement('vit-attention-map') as HTMLElement & Record<string, unknown>;
        const rendered = new Promise((resolve, reject) => {
          el.addEventListener('render', resolve, { once: true });
          el.addEventListener('error', (e) => reject((e as unknown as CustomEvent).detail.error), { once: true });
        });
        el.image = { data: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 };
        el.attention = { ...(data as object), layers: (data as { layers: number[][] }).layers.map((l) => Float32Array.from(l)) };
        el.colormap = 'gray';
        el.opacity = 1;
        document.body.append(el);
        await rendered;
        return (0, eval)(read as string)(el.canvas);
      },
      [attention, readCanvas] as const,
    );
    expect(result.width).toBe(32);
    expect(result.height).toBe(32);
    expect(result.alpha).toBe(255);
    expect(result.distinct).toBeGreaterThan(10); // not blank, not flat
    expect(result.hot).toBe(target);
  });

  it('takes everything as attributes: an image URL, attention JSON, rollout, head fusion, colormap, opacity', async () => {
    const result = await page.evaluate(
      async ([data, read, url]) => {
        const el = document.createElement('vit-attention-map') as HTMLElement & { canvas: HTMLCanvasElement; map: { data: Float32Array } };
        const rendered = new Promise((resolve, reject) => {
          el.addEventListener('render', resolve, { once: true });
          el.addEventListener('error', (e) => reject((e as unknown as CustomEvent).detail.error), { once: true });
        });
        el.setAttribute('attention', JSON.stringify(data));
        el.setAttribute('method', 'rollout');
        el.setAttribute('head-fusion', 'max');
        el.setAttribute('colormap', 'gray');
        el.setAttribute('opacity', '1');
        el.setAttribute('image', url as string);
        document.body.append(el);
        await rendered;
        return { ...(0, eval)(read as string)(el.canvas), mapLength: el.map.data.length };
      },
      [attention, readCanvas, `${base}/gray.png`] as const,
    );
    expect(result.mapLength).toBe(64);
    expect([result.width, result.height]).toEqual([32, 32]);
    expect(result.distinct).toBeGreaterThan(10);
    expect(result.hot).toBe(target);
  });

  it('reads the distillation token\'s row of a DeiT attention with query = 1 (attribute or property)', async () => {
    // DeiT: CLS, distillation token, then 64 patches. CLS looks at patch A, the distillation token at B.
    const [a, b, t] = [9, 54, 66];
    const layer = new Array(4 * t * t).fill(1 / t);
    for (let h = 0; h < 4; h++) {
      for (const [row, patch] of [[0, a], [1, b]] as const) {
        for (let j = 0; j < t; j++) layer[h * t * t + row * t + j] = j === 2 + patch ? 0.9 : 0.1 / (t - 1);
      }
    }
    const deit = { ...grid, prefixTokens: 2, layers: [layer] };
    const hot = await page.evaluate(
      async ([data, read]) => {
        const el = document.createElement('vit-attention-map') as HTMLElement & Record<string, unknown> & { canvas: HTMLCanvasElement };
        const draw = async (change: () => void) => {
          const rendered = new Promise((resolve, reject) => {
            el.addEventListener('render', resolve, { once: true });
            el.addEventListener('error', (e) => reject((e as unknown as CustomEvent).detail.error), { once: true });
          });
          change();
          await rendered;
          return (0, eval)(read as string)(el.canvas).hot as number;
        };
        const first = await draw(() => {
          el.image = { data: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 };
          el.attention = { ...(data as object), layers: (data as { layers: number[][] }).layers.map((l) => Float32Array.from(l)) };
          el.colormap = 'gray';
          el.opacity = 1;
          document.body.append(el);
        });
        const distillation = await draw(() => el.setAttribute('query', '1'));
        const back = await draw(() => {
          el.query = 0;
        });
        return [first, distillation, back, el.query];
      },
      [deit, readCanvas] as const,
    );
    expect(hot).toEqual([a, b, a, 0]);
  });

  it('reports a bad attribute through an error event naming the attribute and the valid values', async () => {
    const message = await page.evaluate(() => {
      const el = document.createElement('vit-attention-map');
      let msg = '';
      el.addEventListener('error', (e) => {
        msg = String((e as unknown as CustomEvent).detail.error.message);
      });
      el.setAttribute('colormap', 'rainbow');
      return msg;
    });
    expect(message).toMatch(/unknown colormap 'rainbow'; valid: viridis, inferno, magma, plasma, turbo, jet, gray/);
  });

  it('drawAttentionOverlay draws on a plain canvas, enlarged by scale', async () => {
    const result = await page.evaluate(
      ([data, read]) => {
        const viz = (window as never as { viz: Record<string, (...a: unknown[]) => unknown> }).viz;
        const d = data as { layers: number[][]; heads: number; gridHeight: number; gridWidth: number };
        const map = viz.clsAttention!(Float32Array.from(d.layers[0] as number[]), d);
        const canvas = document.createElement('canvas');
        const image = { data: new Uint8Array(32 * 32 * 4).fill(200), width: 32, height: 32 };
        viz.drawAttentionOverlay!(canvas, image, map, { colormap: 'gray', alpha: 1, scale: 3 });
        return (0, eval)(read as string)(canvas);
      },
      [attention, readCanvas] as const,
    );
    expect([result.width, result.height]).toEqual([96, 96]);
    expect(result.hot).toBe(target);
  });
});
