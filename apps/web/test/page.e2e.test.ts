import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@vitlens/core';
import { encodePng } from '@vitlens/attention-viz/node';
import { createConfig, ViTForImageClassification } from '@vitlens/vit-model';
import { saveCheckpoint } from '@vitlens/vit-model/node';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPnpm } from '../../../scripts/pnpm.mjs';

// End to end: the built page, served by the built `vitlens serve`, driven in Debian's Chromium.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(repoRoot, 'apps', 'cli', 'dist', 'bin.js');
const chromiumPath = process.env.VITLENS_CHROMIUM ?? '/usr/bin/chromium';
const cifarJpeg = process.env.VITLENS_CIFAR10_JPEG ?? path.join(repoRoot, '..', 'shared', 'data', 'cifar10-jpeg');
// The test's own screenshot (a tiny random model); results/web-screenshot.png, the README's picture of
// the shipped model, is made by scripts/readme-screenshot.mjs.
const screenshot = path.join(repoRoot, 'apps', 'web', 'test-results', 'page.png');
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer'];
const LAYERS = 4;

let tmp: string;
const servers: ChildProcess[] = [];
let url: string;
let bareUrl: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** Probabilities by class for cat/0003.jpg on the default backend, to compare with cpu. */
let firstBackendProbabilities: Record<string, number> = {};
/** Live tensors after the first analysis: every later one must leave the same number. */
let tensorsAfterFirstImage = 0;

async function newestMtime(paths: string[]): Promise<number> {
  let newest = 0;
  for (const p of paths) {
    const stat = await fs.stat(p).catch(() => undefined);
    if (!stat) continue;
    if (stat.isDirectory()) {
      const entries = await fs.readdir(p);
      newest = Math.max(newest, await newestMtime(entries.map((e) => path.join(p, e))));
    } else newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

/**
 * Make sure the built page and the built CLI are up to date: rebuild the page (vite) when a source
 * it bundles is newer than apps/web/dist, and the CLI (tsup, which copies the page into
 * apps/cli/dist/web) when its sources or the page are newer than its dist. `pnpm test` builds both
 * first through turbo (apps/web/turbo.json), so this usually finds nothing to do.
 */
async function ensureBuilt(): Promise<void> {
  const r = (p: string) => path.join(repoRoot, p);
  const pageSources = await newestMtime(
    ['apps/web/index.html', 'apps/web/src', 'apps/web/vite.config.ts', 'packages/core/src', 'packages/vit-model/src', 'packages/attention-viz/src'].map(r),
  );
  if (pageSources > (await newestMtime([r('apps/web/dist/index.html')]))) {
    runPnpm(['--filter', '@vitlens/web', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const cliInputs = await newestMtime([r('apps/cli/src'), r('apps/cli/tsup.config.ts'), r('apps/web/dist/index.html')]);
  if (cliInputs > Math.min(await newestMtime([bin]), await newestMtime([r('apps/cli/dist/web/index.html')]))) {
    runPnpm(['--filter', '@vitlens/cli', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  }
}

/** Start the built `vitlens serve` on a free port; resolves to the URL it prints. */
async function startServe(args: string[]): Promise<string> {
  const server = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(server);
  let output = '';
  return new Promise<string>((resolve, reject) => {
    server.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving the page at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    server.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    server.on('exit', (code) => reject(new Error(`vitlens serve exited with ${code}: ${output}`)));
  });
}

/** Pixel statistics of a canvas (in the page or in the overlay element's shadow root). */
interface CanvasStats {
  width: number;
  height: number;
  colors: number;
  stddev: number;
  hash: number;
}

async function canvasStats(selector: string, inShadowOf?: string): Promise<CanvasStats[]> {
  return page.evaluate(
    ([sel, host]) => {
      const root: ParentNode = host ? ((document.querySelector(host) as HTMLElement).shadowRoot as ShadowRoot) : document;
      return Array.from(root.querySelectorAll<HTMLCanvasElement>(sel)).map((canvas) => {
        const { width, height } = canvas;
        if (width === 0 || height === 0) return { width, height, colors: 0, stddev: 0, hash: 0 };
        const data = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, width, height).data;
        const colors = new Set<number>();
        let sum = 0;
        let sumSq = 0;
        let hash = 0;
        for (let i = 0; i < data.length; i += 4) {
          const rgb = ((data[i] as number) << 16) | ((data[i + 1] as number) << 8) | (data[i + 2] as number);
          colors.add(rgb);
          const lum = (data[i] as number) + (data[i + 1] as number) + (data[i + 2] as number);
          sum += lum;
          sumSq += lum * lum;
          hash = (Math.imul(hash, 31) + rgb) | 0;
        }
        const n = data.length / 4;
        return { width, height, colors: colors.size, stddev: Math.sqrt(Math.max(0, sumSq / n - (sum / n) ** 2)), hash };
      });
    },
    [selector, inShadowOf ?? ''] as const,
  );
}

/** A canvas with something drawn on it: many colours and real contrast (not one flat fill). */
function expectDrawn(stats: CanvasStats, what: string): void {
  expect(stats.width, what).toBeGreaterThan(0);
  expect(stats.colors, what).toBeGreaterThan(50);
  expect(stats.stddev, what).toBeGreaterThan(5);
}

async function renders(on: Page = page): Promise<number> {
  return Number(await on.evaluate(() => document.body.dataset.renders ?? '0'));
}

/** Change a control and wait until the page has redrawn. */
async function selectAndWait(selector: string, value: string, on: Page = page): Promise<void> {
  const before = await renders(on);
  await on.selectOption(selector, value);
  await on.waitForFunction((n) => Number(document.body.dataset.renders ?? '0') > n, before);
}

/** Move a range input as a user would (an `input` event) and wait until the page has redrawn. */
async function slideAndWait(selector: string, value: string, on: Page = page): Promise<void> {
  const before = await renders(on);
  await on.$eval(selector, (input, v) => {
    (input as HTMLInputElement).value = v;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
  await on.waitForFunction((n) => Number(document.body.dataset.renders ?? '0') > n, before);
}

/** A numeric data attribute of every element matching `selector`, in document order. */
async function dataNumbers(on: Page, selector: string, key: 'kept' | 'peak'): Promise<number[]> {
  return on.$$eval(selector, (nodes, k) => nodes.map((n) => Number((n as HTMLElement).dataset[k])), key);
}

beforeAll(async () => {
  await ensureBuilt();
  await initBackend({ prefer: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-e2e-'));
  // a tiny real checkpoint: 4 layers, 2 heads, 8×8 patches of 4 pixels, five CIFAR-10 classes
  const config = createConfig('vit-mini-patch4-32', {
    hidden_size: 32,
    num_hidden_layers: LAYERS,
    num_attention_heads: 2,
    intermediate_size: 64,
    id2label: Object.fromEntries(CLASSES.map((c, i) => [String(i), c])),
    label2id: Object.fromEntries(CLASSES.map((c, i) => [c, i])),
  });
  const model = ViTForImageClassification.create(config, { seed: 'e2e' });
  await saveCheckpoint(model, path.join(tmp, 'checkpoint'));
  model.dispose();
  const wider = ViTForImageClassification.create({ ...config, hidden_size: 48, intermediate_size: 96 }, { seed: 'other' });
  await saveCheckpoint(wider, path.join(tmp, 'other-checkpoint'));
  wider.dispose();
  for (const cls of CLASSES.slice(0, 2)) {
    await fs.mkdir(path.join(tmp, 'data', cls), { recursive: true });
    for (const name of ['0000.jpg', '0001.jpg', '0002.jpg']) {
      await fs.copyFile(path.join(cifarJpeg, 'train', cls, name), path.join(tmp, 'data', cls, name));
    }
  }
  await fs.writeFile(path.join(tmp, 'notes.txt'), 'this is not an image');
  [url, bareUrl] = await Promise.all([
    startServe(['--checkpoint', path.join(tmp, 'checkpoint'), '--data', path.join(tmp, 'data')]),
    // a server without a checkpoint (where the shipped default model is not built yet)
    startServe(['--checkpoint', path.join(tmp, 'models', 'default')]),
  ]);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('response', (response) => {
    if (response.status() >= 400) pageErrors.push(`${response.status()} ${response.url()}`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  for (const server of servers) server.kill('SIGTERM');
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('the page served by vitlens serve', () => {
  it('loads the checkpoint from its server and names the backend it runs on', async () => {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.state === 'model-ready', undefined, { timeout: 60_000 });
    // headless Chromium without a GPU renders WebGL in software (SwiftShader), so the page picks wasm
    expect(await page.textContent('#backend')).toBe('wasm');
    // (or, where Chromium has no WebGL at all, because webgpu and webgl are unavailable)
    expect(await page.getAttribute('#backend', 'title')).toMatch(
      /WebGL renders in software here \(.*\), where wasm is faster|tfjs-backend-webgl unavailable/,
    );
    // cross-origin isolated (COOP/COEP from the server), so tfjs runs its multi-threaded wasm build
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    expect(await page.textContent('#model-info')).toBe(`${LAYERS} layers · 2 heads · 32px/4`);
    expect(await page.isVisible('#sample-button')).toBe(true);
  });

  it('classifies an uploaded image: a top-5 list whose probabilities sum to 1', async () => {
    await page.setInputFiles('#file-input', path.join(cifarJpeg, 'train', 'cat', '0003.jpg'));
    await page.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 60_000 });
    const rows = await page.$$eval('#top5 li', (items) =>
      items.map((li) => ({ label: li.querySelector('.label')?.textContent ?? '', p: Number((li as HTMLElement).dataset.probability) })),
    );
    firstBackendProbabilities = Object.fromEntries(rows.map((r) => [r.label, r.p]));
    expect(rows).toHaveLength(5); // the five classes of this model, all of them listed
    expect(rows.map((r) => r.label).sort()).toEqual([...CLASSES].sort());
    expect(rows.reduce((sum, r) => sum + r.p, 0)).toBeCloseTo(1, 4);
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1]?.p).toBeGreaterThanOrEqual(rows[i]?.p as number);
    expect(await page.textContent('#headline')).toBe(`${rows[0]?.label}${((rows[0]?.p as number) * 100).toFixed(1)}%`);
    expect(await page.textContent('#inference-time')).toMatch(/^\d+\.\d ms$/);
    tensorsAfterFirstImage = Number(await page.evaluate(() => document.body.dataset.tensors));
    expect(tensorsAfterFirstImage).toBeGreaterThan(0);
  });

  it('draws the overlay, the rollout and gradient maps, and every layer map', async () => {
    const [overlay] = await canvasStats('canvas', '#overlay');
    expectDrawn(overlay as CanvasStats, 'overlay');
    const layers = await canvasStats('#layer-grid canvas');
    expect(layers).toHaveLength(LAYERS);
    // layers are numbered from 0, as in the checkpoint, the Node figures and `vitlens visualize --layers`
    expect(await page.$$eval('#layer-grid .layer-map span', (spans) => spans.map((s) => s.textContent))).toEqual(
      Array.from({ length: LAYERS }, (_, i) => `layer ${i}`),
    );
    expect(await page.$$eval('#layer option', (options) => options.map((o) => o.textContent))).toEqual(
      Array.from({ length: LAYERS }, (_, i) => `layer ${i}${i === LAYERS - 1 ? ' (last)' : ''}`),
    );
    for (const [i, s] of layers.entries()) expectDrawn(s, `layer ${i}`);
    expect(new Set(layers.map((s) => s.hash)).size).toBe(LAYERS); // each layer attends differently
    expectDrawn((await canvasStats('#rollout-map'))[0] as CanvasStats, 'rollout');
    expectDrawn((await canvasStats('#gradient-map'))[0] as CanvasStats, 'gradient');
    // DINO's view for a classifier too: one mask per head of the last layer, at the paper's 60%
    const dino = await canvasStats('#dino-grid canvas');
    expect(dino).toHaveLength(2);
    for (const [i, s] of dino.entries()) expect(s.width, `DINO head ${i}`).toBeGreaterThan(0);
    expect(await page.textContent('#dino-caption')).toBe(`layer ${LAYERS - 1} (last): each head's fewest patches holding 60% of its attention`);
    // a ViT has no distillation token to choose
    expect(await page.isVisible('#token')).toBe(false);
  });

  it('redraws the overlay when the method and the layer change', async () => {
    const hash = async () => ((await canvasStats('canvas', '#overlay'))[0] as CanvasStats).hash;
    const lastLayer = await hash();
    await selectAndWait('#layer', '0');
    const firstLayer = await hash();
    expect(firstLayer).not.toBe(lastLayer);
    expect(await page.textContent('#overlay-caption')).toBe(`CLS attention, layer 0 of 0–${LAYERS - 1}, mean of heads`);
    await selectAndWait('#method', 'rollout');
    const rollout = await hash();
    expect(rollout).not.toBe(firstLayer);
    expect(await page.textContent('#overlay-caption')).toBe(`Attention rollout over ${LAYERS} layers, mean of heads`);
    await selectAndWait('#method', 'gradient');
    expect(await hash()).not.toBe(rollout);
    await selectAndWait('#method', 'cls');
    await selectAndWait('#heads', 'head:1');
    expect(await hash()).not.toBe(firstLayer);
    await selectAndWait('#colormap', 'viridis');
    expectDrawn(((await canvasStats('canvas', '#overlay'))[0] as CanvasStats), 'overlay after changes');
  });

  it('shows a random test image with its true label', async () => {
    await page.click('#sample-button');
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && !(document.querySelector('#truth') as HTMLElement | null)?.hidden, undefined, {
      timeout: 60_000,
    });
    expect(await page.textContent('#truth')).toMatch(/^True label: (airplane|automobile) [✓✗]/);
    expect(await page.textContent('#image-info')).toMatch(/^(airplane|automobile)\/000[012]\.jpg: 32×32$/);
  });

  it('takes a pasted image of any size and a dropped one', async () => {
    // a 1500×700 image made in the page, pasted: larger than 1024 px, so scaled down first
    await page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 1500;
      canvas.height = 700;
      const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
      const gradient = ctx.createLinearGradient(0, 0, 1500, 700);
      gradient.addColorStop(0, '#1565c0');
      gradient.addColorStop(1, '#ffb300');
      ctx.fillStyle = gradient;
      ctx.fillRect(0, 0, 1500, 700);
      ctx.fillStyle = '#222';
      ctx.fillRect(600, 200, 300, 300);
      const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b as Blob), 'image/png'));
      const transfer = new DataTransfer();
      transfer.items.add(new File([blob], 'image.png', { type: 'image/png' }));
      document.body.dataset.state = 'waiting';
      window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer }));
    });
    await page.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 60_000 });
    expect(await page.textContent('#image-info')).toBe('pasted image: 1500×700, scaled to 1024×478 first');
    expect(await page.$$eval('#top5 li', (items) => items.length)).toBe(5);
    // a dropped file
    const bytes = (await fs.readFile(path.join(cifarJpeg, 'train', 'bird', '0001.jpg'))).toString('base64');
    await page.evaluate((b64) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], 'bird.jpg', { type: 'image/jpeg' }));
      document.body.dataset.state = 'waiting';
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, cancelable: true }));
    }, bytes);
    await page.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 60_000 });
    expect(await page.textContent('#image-info')).toBe('bird.jpg: 32×32');
    // after five more analyses (layer/method changes, a sample, a paste, a drop) no tensor leaked
    expect(Number(await page.evaluate(() => document.body.dataset.tensors))).toBe(tensorsAfterFirstImage);
  });

  it('shows an error in the page for a file that is not an image, and keeps working', async () => {
    await page.setInputFiles('#file-input', path.join(tmp, 'notes.txt'));
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error-text')).toMatch(/^notes\.txt is not an image the browser can decode/);
    expect(await page.$$eval('#top5 li', (items) => items.length)).toBe(5);
    await page.click('#error-close');
    await fs.mkdir(path.dirname(screenshot), { recursive: true });
    await page.selectOption('#method', 'cls');
    await page.selectOption('#layer', String(LAYERS - 1));
    await page.selectOption('#heads', 'fuse:mean');
    await page.selectOption('#colormap', 'jet');
    await page.setInputFiles('#file-input', path.join(cifarJpeg, 'train', 'cat', '0003.jpg'));
    await page.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 60_000 });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect((await fs.stat(screenshot)).size).toBeGreaterThan(10_000);
    // the only error of the session is the one this test provoked
    expect(pageErrors.filter((e) => !e.includes('is not an image the browser can decode'))).toEqual([]);
  });
});

describe('the page on another backend', () => {
  it('gives the same probabilities on the cpu backend (?backend=cpu)', async () => {
    const otherPage = await browser.newPage();
    const errors: string[] = [];
    otherPage.on('pageerror', (error) => errors.push(error.message));
    otherPage.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    try {
      await otherPage.goto(`${url}?backend=cpu`);
      await otherPage.waitForFunction(() => document.body.dataset.state === 'model-ready', undefined, { timeout: 60_000 });
      expect(await otherPage.textContent('#backend')).toBe('cpu');
      await otherPage.setInputFiles('#file-input', path.join(cifarJpeg, 'train', 'cat', '0003.jpg'));
      await otherPage.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 60_000 });
      const rows = await otherPage.$$eval('#top5 li', (items) =>
        items.map((li) => ({ label: li.querySelector('.label')?.textContent ?? '', p: Number((li as HTMLElement).dataset.probability) })),
      );
      expect(rows).toHaveLength(5);
      for (const { label, p } of rows) expect(p).toBeCloseTo(firstBackendProbabilities[label] as number, 3);
      expect(errors).toEqual([]);
    } finally {
      await otherPage.close();
    }
  });
});

describe('the page and Node', () => {
  it('give the same logits for the same decoded pixels and checkpoint (to 1e-4): the page vs vitlens predict', async () => {
    // The pixels Chromium decoded for the page's first analysis (cat/0003.jpg, wasm): the page decodes
    // with createImageBitmap and draws at the natural size, as here. Node's JPEG decoder (jpeg-js)
    // gives other pixels for the same file (chroma upsampling), so Node gets these exact pixels as a PNG.
    const jpegBytes = await fs.readFile(path.join(cifarJpeg, 'train', 'cat', '0003.jpg'));
    const decoded = await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
      const canvas = document.createElement('canvas');
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
      ctx.drawImage(bitmap, 0, 0);
      return { data: Array.from(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data), width: bitmap.width, height: bitmap.height };
    }, jpegBytes.toString('base64'));
    const png = path.join(tmp, 'cat-0003-as-chromium-decodes-it.png');
    await fs.writeFile(png, encodePng({ data: Uint8Array.from(decoded.data), width: decoded.width, height: decoded.height, channels: 4 }));
    const out = execFileSync(process.execPath, [bin, 'predict', '--checkpoint', path.join(tmp, 'checkpoint'), '--image', png, '--json', '--backend', 'wasm'], {
      encoding: 'utf8',
    });
    const nodeLogits = (JSON.parse(out) as { images: { logits: number[] }[] }).images[0]?.logits as number[];
    expect(nodeLogits).toHaveLength(CLASSES.length);
    // The page shows probabilities; their logs are the logits less one constant (the log-sum-exp),
    // so both sides are compared centred on their mean.
    const centred = (v: number[]) => v.map((x) => x - v.reduce((a, b) => a + b, 0) / v.length);
    const pageSide = centred(CLASSES.map((c) => Math.log(firstBackendProbabilities[c] as number)));
    const nodeSide = centred(nodeLogits);
    // the logits of this random model spread over ~0.3, far beyond the tolerance
    expect(Math.max(...nodeSide) - Math.min(...nodeSide)).toBeGreaterThan(0.01);
    for (const [i, c] of CLASSES.entries()) expect(Math.abs((pageSide[i] as number) - (nodeSide[i] as number)), c).toBeLessThan(1e-4);
  });
});

describe('the page when the server has no checkpoint', () => {
  let bare: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    bare = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    bare.on('pageerror', (error) => errors.push(error.message));
    await bare.goto(bareUrl);
  });

  it("shows the server's 404 error and hides the random-image button", async () => {
    await bare.waitForFunction(() => document.body.dataset.state === 'no-model', undefined, { timeout: 60_000 });
    expect(await bare.textContent('#error-text')).toMatch(/no checkpoint at default: config\.json and model\.safetensors are missing/);
    expect(await bare.isVisible('#sample-button')).toBe(false);
  });

  it('names the tensors when dropped files do not fit together', async () => {
    const dir = path.join(tmp, 'checkpoint');
    await bare.setInputFiles('#checkpoint-input', [path.join(dir, 'config.json'), path.join(tmp, 'other-checkpoint', 'model.safetensors')]);
    await bare.waitForFunction(() => /model\.safetensors/.test(document.querySelector('#error-text')?.textContent ?? '') && !/no checkpoint at/.test(document.querySelector('#error-text')?.textContent ?? ''));
    expect(await bare.textContent('#error-text')).toMatch(/vit\.embeddings|shape/);
    expect(await bare.evaluate(() => document.body.dataset.state)).toBe('no-model');
  });

  it('runs a checkpoint the user drops, then classifies an image', async () => {
    const dir = path.join(tmp, 'checkpoint');
    await bare.setInputFiles('#checkpoint-input', ['config.json', 'preprocessor_config.json', 'model.safetensors'].map((f) => path.join(dir, f)));
    await bare.waitForFunction(() => document.body.dataset.state === 'model-ready', undefined, { timeout: 60_000 });
    expect(await bare.isVisible('#error')).toBe(false);
    expect(await bare.textContent('#model-info')).toBe(`${LAYERS} layers · 2 heads · 32px/4`);
    await bare.setInputFiles('#file-input', path.join(cifarJpeg, 'train', 'deer', '0000.jpg'));
    await bare.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 60_000 });
    expect(await bare.$$eval('#top5 li', (items) => items.length)).toBe(5);
    expect(errors).toEqual([]);
  });

  it('runs a dropped DINO-layout ViTModel (no classifier): says so, and shows one layer\'s heads side by side', async () => {
    const dir = path.join(repoRoot, 'packages', 'vit-model', 'test', 'fixtures', 'tiny-dino');
    await bare.setInputFiles('#checkpoint-input', ['config.json', 'preprocessor_config.json', 'model.safetensors'].map((f) => path.join(dir, f)));
    await bare.waitForFunction(() => document.body.dataset.state === 'ready' && /no classifier/.test(document.querySelector('#headline')?.textContent ?? ''), undefined, { timeout: 60_000 });
    expect(await bare.textContent('#headline')).toMatch(/^ViTModel: no classifier/);
    expect(await bare.$$eval('#top5 li', (items) => items.length)).toBe(0);
    expect(await bare.textContent('#gradient-target')).toMatch(/norm of the CLS embedding/);
    expect(await bare.$$eval('#head-grid canvas', (items) => items.length)).toBe(2);
    expect(await bare.textContent('#heads-caption')).toMatch(/^layer 1: each of its 2 heads alone/);
    // DINO's view: per last-layer head, the fewest of the 4×4 patches holding the chosen share of its attention
    const kept = (on: Page) => dataNumbers(on, '#dino-grid .head-map', 'kept');
    expect(await bare.inputValue('#dino-keep')).toBe('0.6');
    const at60 = await kept(bare);
    expect(at60).toHaveLength(2);
    for (const k of at60) expect(k).toBeGreaterThan(0);
    await slideAndWait('#dino-keep', '0.2', bare);
    expect(await bare.textContent('#dino-keep-value')).toBe('20%');
    expect(await bare.textContent('#dino-caption')).toMatch(/holding 20% of its attention/);
    const at20 = await kept(bare);
    for (const [head, k] of at20.entries()) expect(k, `head ${head}`).toBeLessThan(at60[head] as number);
    await slideAndWait('#dino-keep', '1', bare);
    expect(await kept(bare)).toEqual([16, 16]); // all of the mass: every patch
    await slideAndWait('#dino-keep', '0.6', bare);
    expect(await kept(bare)).toEqual(at60);
    expect(errors).toEqual([]);
  });

  it('runs a dropped DeiT with teacher (CLS + distillation tokens) and classifies with it', async () => {
    const dir = path.join(repoRoot, 'packages', 'vit-model', 'test', 'fixtures', 'tiny-deit-distilled');
    await bare.setInputFiles('#checkpoint-input', ['config.json', 'preprocessor_config.json', 'model.safetensors'].map((f) => path.join(dir, f)));
    await bare.waitForFunction(() => document.body.dataset.state === 'ready' && /^class/.test(document.querySelector('#headline')?.textContent ?? ''), undefined, { timeout: 60_000 });
    expect(await bare.textContent('#headline')).toMatch(/^class[0-4]/);
    expect(await bare.$$eval('#top5 li', (items) => items.length)).toBe(5);
    expect(errors).toEqual([]);
  });

  it("lets the user read DeiT's maps from its distillation token instead of CLS", async () => {
    expect(await bare.isVisible('#token')).toBe(true);
    expect(await bare.inputValue('#token')).toBe('0');
    // peaks of every map that reads a token's row: the main overlay, each layer, each head of the
    // selected layer, rollout
    const peaks = async () => [
      ...(await dataNumbers(bare, '#overlay', 'peak')),
      ...(await dataNumbers(bare, '#layer-grid .layer-map', 'peak')),
      ...(await dataNumbers(bare, '#head-grid .head-map', 'peak')),
      ...(await dataNumbers(bare, '#rollout-map', 'peak')),
    ];
    const cls = await peaks();
    expect(cls).toHaveLength(1 + 2 + 2 + 1);
    for (const p of cls) expect(p).toBeGreaterThan(0);
    await selectAndWait('#token', '1', bare);
    const distillation = await peaks();
    for (const [i, p] of distillation.entries()) expect(p, `map ${i}`).not.toBe(cls[i]);
    expect(await bare.textContent('#overlay-caption')).toMatch(/, distillation token$/);
    expect(await bare.textContent('#heads-caption')).toMatch(/^layer 1: each of its 2 heads alone, distillation token/);
    expect(await bare.textContent('#dino-caption')).toMatch(/distillation token$/);
    await selectAndWait('#token', '0', bare);
    expect(await peaks()).toEqual(cls);
    expect(errors).toEqual([]);
  });
});
