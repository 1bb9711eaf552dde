import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@vitlens/core';
import { writeJsonAtomic } from '@vitlens/core/node';
import { CIFAR10_CLASS_NAMES, type ViTConfig, ViTForImageClassification, geometry, parseConfig } from '@vitlens/vit-model';
import { saveCheckpoint } from '@vitlens/vit-model/node';
import { chromium } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
// the server in-process (the page is what is measured; the built CLI is covered by the e2e test)
import { type RunningServer, startServer } from '../../cli/src/server';

// How long the page takes per image in headless Chromium, per backend, for a model of the shipped
// model's shape (models/default/config.json; timing does not depend on the weights, so they are
// random), or for the checkpoint VITLENS_MEASURE_CHECKPOINT names (e.g. a widened one, before it is
// shipped). Needs the built page (`pnpm --filter @vitlens/web build`). Writes results/web-timing.json,
// or the file VITLENS_MEASURE_OUT names.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cifarJpeg = process.env.VITLENS_CIFAR10_JPEG ?? path.join(repoRoot, '..', 'shared', 'data', 'cifar10-jpeg');
const IMAGES = Number(process.env.VITLENS_MEASURE_IMAGES ?? 7);
const BACKENDS = (process.env.VITLENS_MEASURE_BACKENDS ?? 'webgl,wasm,cpu').split(',');
const CHECKPOINT = process.env.VITLENS_MEASURE_CHECKPOINT;
const OUT = process.env.VITLENS_MEASURE_OUT ?? path.join(repoRoot, 'results', 'web-timing.json');

/** The checkpoint the page serves: the one named, else random weights of the shipped model's shape. */
async function checkpointToMeasure(): Promise<{ dir: string; config: ViTConfig }> {
  if (CHECKPOINT) return { dir: CHECKPOINT, config: parseConfig(JSON.parse(await fs.readFile(path.join(CHECKPOINT, 'config.json'), 'utf8'))) };
  const shipped = parseConfig(JSON.parse(await fs.readFile(path.join(repoRoot, 'models', 'default', 'config.json'), 'utf8')));
  const model = ViTForImageClassification.create(shipped, { seed: 1 });
  await saveCheckpoint(model, path.join(tmp, 'checkpoint'));
  model.dispose();
  return { dir: path.join(tmp, 'checkpoint'), config: shipped };
}

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
  const { dir, config } = await checkpointToMeasure();
  server = await startServer({ webRoot: path.join(repoRoot, 'apps', 'web', 'dist'), checkpointDir: dir, port: 0 });
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
    what:
      `median ms per image in the page (hidden ${config.hidden_size}, ${config.num_hidden_layers} layers, ` +
      `${config.num_attention_heads} heads, MLP ${config.intermediate_size}, ${geometry(config).tokens} tokens), headless Chromium --disable-gpu`,
    ...(CHECKPOINT ? { checkpoint: CHECKPOINT } : {}),
    chromium: browser.version(),
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '',
    rows,
  };
  await writeJsonAtomic(OUT, result);
  console.log(['| backend | forward (ms) | attention gradients (ms) |', '| --- | --- | --- |', ...rows.map((r) => `| ${r.backend} | ${r.forwardMs.toFixed(1)} | ${r.gradientMs.toFixed(1)} |`)].join('\n'));
  expect(rows).toHaveLength(BACKENDS.length);
});
