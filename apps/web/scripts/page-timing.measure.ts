import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@vitlens/core';
import { writeJsonAtomic } from '@vitlens/core/node';
import { CIFAR10_CLASS_NAMES, createConfig, ViTForImageClassification } from '@vitlens/vit-model';
import { saveCheckpoint } from '@vitlens/vit-model/node';
import { chromium } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
// the server in-process (the page is what is measured; the built CLI is covered by the e2e test)
import { type RunningServer, startServer } from '../../cli/src/server';

// How long the page takes per image in headless Chromium, per backend, for a model of the
// `vit-mini-patch4-32` preset (timing does not depend on the weights, so they are random).
// Needs the built page (`pnpm --filter @vitlens/web build`). Writes results/web-timing.json.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cifarJpeg = process.env.VITLENS_CIFAR10_JPEG ?? path.join(repoRoot, '..', 'shared', 'data', 'cifar10-jpeg');
const IMAGES = Number(process.env.VITLENS_MEASURE_IMAGES ?? 7);
const BACKENDS = (process.env.VITLENS_MEASURE_BACKENDS ?? 'webgl,wasm,cpu').split(',');

let server: RunningServer | undefined;
let tmp = '';
afterAll(async () => {
  await server?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

/** Wait until the page reaches `state`, or fail with the error the page shows. */
async function waitForState(page: import('playwright-core').Page, state: string): Promise<void> {
  await page.waitForFunction(
    (s) => document.body.dataset.state === s || !(document.getElementById('error') as HTMLElement).hidden,
    state,
    { timeout: 300_000 },
  );
  if (!(await page.isHidden('#error'))) throw new Error(`the page shows an error: ${await page.textContent('#error-text')}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

it('measures forward and gradient time per image on each backend', async () => {
  await initBackend({ prefer: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-timing-'));
  const config = createConfig('vit-mini-patch4-32', {
    id2label: Object.fromEntries(CIFAR10_CLASS_NAMES.map((c, i) => [String(i), c])),
    label2id: Object.fromEntries(CIFAR10_CLASS_NAMES.map((c, i) => [c, i])),
  });
  const model = ViTForImageClassification.create(config, { seed: 1 });
  await saveCheckpoint(model, path.join(tmp, 'checkpoint'));
  model.dispose();
  server = await startServer({ webRoot: path.join(repoRoot, 'apps', 'web', 'dist'), checkpointDir: path.join(tmp, 'checkpoint'), port: 0 });
  const { url } = server;
  const browser = await chromium.launch({
    executablePath: process.env.VITLENS_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const rows: Array<{ backend: string; forwardMs: number; gradientMs: number; images: number }> = [];
  try {
    for (const backend of BACKENDS) {
      const page = await browser.newPage();
      await page.goto(`${url}?backend=${backend}`);
      page.on('response', (r) => {
        if (r.status() >= 400) console.log(`[${backend}] ${r.status()} ${r.url()}`);
      });
      page.on('console', (msg) => console.log(`[${backend}] ${msg.type()}: ${msg.text()}`));
      await waitForState(page, 'model-ready');
      expect(await page.textContent('#backend')).toBe(backend);
      const forward: number[] = [];
      const gradient: number[] = [];
      for (let i = 0; i < IMAGES; i++) {
        const file = path.join(cifarJpeg, 'train', CIFAR10_CLASS_NAMES[i % 10] as string, `000${i % 10}.jpg`);
        await page.evaluate(() => {
          document.body.dataset.state = 'waiting';
        });
        await page.setInputFiles('#file-input', file);
        await waitForState(page, 'ready');
        forward.push(Number(await page.evaluate(() => document.body.dataset.inferenceMs)));
        gradient.push(Number(await page.evaluate(() => document.body.dataset.gradientMs)));
      }
      rows.push({ backend, forwardMs: median(forward), gradientMs: median(gradient), images: IMAGES });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  const result = {
    what: 'median ms per image in the page (vit-mini-patch4-32: hidden 128, 6 layers, 4 heads, 65 tokens), headless Chromium --disable-gpu',
    chromium: browser.version(),
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '',
    rows,
  };
  await writeJsonAtomic(path.join(repoRoot, 'results', 'web-timing.json'), result);
  console.log(['| backend | forward (ms) | attention gradients (ms) |', '| --- | --- | --- |', ...rows.map((r) => `| ${r.backend} | ${r.forwardMs.toFixed(1)} | ${r.gradientMs.toFixed(1)} |`)].join('\n'));
  expect(rows).toHaveLength(BACKENDS.length);
});
