import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// initBackend in a page built by a bundler, as the README's "In a bundled web page" recipe says:
// the app imports the backends it ships; initBackend uses them as registered, and reaches the wasm
// backend's setWasmPaths through the option (a second, dynamic import cannot resolve in a bundle).
// A real browser: Debian's Chromium driven by playwright-core (no browser download).
const CHROMIUM = process.env.VITLENS_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

const require = createRequire(import.meta.url);
const wasmDist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

// The README recipe's imports; `run` calls initBackend with each test's options (a function
// cannot cross into the page, so `setWasmPaths: true` stands for the imported one).
const PAGE_ENTRY = `
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initBackend, tf } from '@vitlens/core';

window.run = async (options) => {
  const lines = [];
  const opts = { log: (l) => lines.push(l), ...options };
  if (opts.setWasmPaths === true) opts.setWasmPaths = setWasmPaths;
  try {
    const choice = await initBackend(opts);
    const sum = tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync()));
    return { choice, backend: tf.getBackend(), sum, lines };
  } catch (error) {
    return { error: String(error && error.message), lines };
  }
};
`;

let server: http.Server;
let browser: Browser;
let base = '';
const requested: string[] = [];

beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: PAGE_ENTRY, resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'js' },
    bundle: true,
    format: 'esm',
    write: false,
    platform: 'browser',
    target: 'es2022',
    // @vitlens/core from its sources, as the other tests use it
    alias: { '@vitlens/core': fileURLToPath(new URL('../src/index.ts', import.meta.url)) },
    logLevel: 'error',
  });
  const routes = new Map<string, [string, string | Uint8Array]>([
    ['/', ['text/html', '<!doctype html><meta charset="utf-8"><title>initBackend</title><script type="module" src="./app.js"></script>']],
    ['/app.js', ['text/javascript', bundle.outputFiles[0]?.text ?? '']],
  ]);
  for (const file of WASM_FILES) {
    const bytes = new Uint8Array(await readFile(path.join(wasmDist, file)));
    routes.set(`/wasm/${file}`, ['application/wasm', bytes]);
  }
  server = http.createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0] ?? '';
    requested.push(url);
    const route = routes.get(url);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': route[0] }).end(route[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

interface RunResult {
  choice?: { name: string; module: string; reason: string; attempts: { name: string; ok: boolean; error?: string }[] };
  backend?: string;
  sum?: number[];
  error?: string;
  lines: string[];
}

/** A fresh page (a fresh tfjs), then `initBackend(options)` in it. */
async function runInPage(options: Record<string, unknown>): Promise<RunResult> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${base}/`);
    await page.waitForFunction(() => 'run' in window);
    const result = (await page.evaluate((o) => (window as unknown as { run: (o: unknown) => Promise<unknown> }).run(o), options)) as RunResult;
    expect(errors).toEqual([]);
    return result;
  } finally {
    await page.close();
  }
}

describe('initBackend in a bundled page (esbuild, Chromium)', () => {
  it('picks the wasm backend the page imported, with wasmPaths applied through setWasmPaths, and runs an op on it', async () => {
    requested.length = 0;
    const result = await runInPage({ wasmPaths: '/wasm/', setWasmPaths: true });
    expect(result.error).toBeUndefined();
    expect(result.choice?.name).toBe('wasm');
    expect(result.backend).toBe('wasm');
    expect(result.sum).toEqual([17, 39]);
    // the binary came from wasmPaths (the page has no other route for it)
    expect(requested.some((u) => /^\/wasm\/tfjs-backend-wasm(-simd)?\.wasm$/.test(u))).toBe(true);
    // webgpu and webgl were not imported by the page: skipped, with what to do about it
    const [webgpu, webgl] = result.choice?.attempts ?? [];
    expect(webgpu).toMatchObject({ name: 'webgpu', ok: false });
    expect(webgpu?.error).toContain("`import '@tensorflow/tfjs-backend-webgpu'` in your app");
    expect(webgl?.error).toContain("`import '@tensorflow/tfjs-backend-webgl'` in your app");
  }, 120_000);

  it('refuses wasmPaths it cannot apply (no setWasmPaths, the module not importable) instead of falling back to cpu', async () => {
    const result = await runInPage({ wasmPaths: '/wasm/' });
    expect(result.choice).toBeUndefined();
    expect(result.error).toMatch(/wasmPaths given, but the wasm backend was registered by your app .*pass `setWasmPaths`/);
  }, 120_000);

  it('uses a registered backend as it is: prefer cpu needs no import', async () => {
    const result = await runInPage({ prefer: 'cpu' });
    expect(result.choice?.name).toBe('cpu');
    expect(result.choice?.attempts).toEqual([{ name: 'cpu', module: '@tensorflow/tfjs-backend-cpu', ok: true }]);
    expect(result.sum).toEqual([17, 39]);
  }, 120_000);
});
