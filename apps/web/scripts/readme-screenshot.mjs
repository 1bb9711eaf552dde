#!/usr/bin/env node
// Takes the README's picture of the page: `vitlens serve` with the shipped default model and the
// shared CIFAR-10 images, one real image analysed, a full-page screenshot by Debian's Chromium.
//   node apps/web/scripts/readme-screenshot.mjs [image] [out.png]     (after `pnpm build`)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const data = process.env.VITLENS_CIFAR10_JPEG ?? path.join(repo, '..', 'shared', 'data', 'cifar10-jpeg');
// horse/0000.jpg is held out of training (apps/cli/scripts/held-out-samples.mjs lists such images).
const image = process.argv[2] ?? path.join(data, 'train', 'horse', '0000.jpg');
const out = process.argv[3] ?? path.join(repo, 'results', 'web-screenshot.png');

const server = spawn(process.execPath, [path.join(repo, 'apps', 'cli', 'dist', 'bin.js'), 'serve', '--port', '0', '--data', path.join(data, 'train')], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve, reject) => {
  let text = '';
  server.stdout.on('data', (chunk) => {
    text += chunk;
    const match = /http:\/\/127\.0\.0\.1:\d+\/?/.exec(text);
    if (match) resolve(match[0]);
  });
  server.on('exit', (code) => reject(new Error(`vitlens serve exited with ${code}: ${text}`)));
});
const browser = await chromium.launch({
  executablePath: process.env.VITLENS_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state === 'model-ready', undefined, { timeout: 120_000 });
  await page.setInputFiles('#file-input', image);
  await page.waitForFunction(() => document.body.dataset.state === 'ready', undefined, { timeout: 120_000 });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out} (${url}, ${path.relative(repo, image)})`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
