import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, tf } from '@vitlens/core';
import { createConfig, modelFromFiles, ViTForImageClassification } from '@vitlens/vit-model';
import { saveCheckpoint } from '@vitlens/vit-model/node';
import { stratifiedSplit } from '@vitlens/cifar10-data';
import { loadDataset, naturalCompare } from '@vitlens/cifar10-data/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server';
import { json, raw } from './helpers/http';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const cifarJpeg = process.env.VITLENS_CIFAR10_JPEG ?? path.join(repoRoot, '..', 'shared', 'data', 'cifar10-jpeg');

let tmp: string;
let webRoot: string;
let checkpointDir: string;
let dataDir: string;
let model: ViTForImageClassification;
let server: RunningServer;
const SECRET = 'top-secret-outside-the-web-root';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-serve-'));
  // a web root with one file of each served kind, a secret beside it and a symlink leading out
  webRoot = path.join(tmp, 'web');
  await fs.mkdir(path.join(webRoot, 'assets'), { recursive: true });
  await fs.writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>vitlens</title>');
  await fs.writeFile(path.join(webRoot, 'assets', 'app-1234.js'), 'console.log(1)');
  await fs.writeFile(path.join(webRoot, 'assets', 'style-1234.css'), 'body{}');
  await fs.writeFile(path.join(webRoot, 'assets', 'tfjs-backend-wasm-simd-1234.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  await fs.writeFile(path.join(webRoot, 'assets', 'data.json'), '{"a":1}');
  await fs.writeFile(path.join(tmp, 'secret.txt'), SECRET);
  await fs.symlink(path.join(tmp, 'secret.txt'), path.join(webRoot, 'link-out.txt'));
  await fs.symlink(path.join(webRoot, 'index.html'), path.join(webRoot, 'link-in.html'));

  // a tiny real checkpoint
  const config = createConfig('vit-mini-patch4-32', {
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    image_size: 8,
    patch_size: 4,
    id2label: { 0: 'cat', 1: 'dog', 2: 'ship' },
    label2id: { cat: 0, dog: 1, ship: 2 },
  });
  model = ViTForImageClassification.create(config, { seed: 7 });
  checkpointDir = path.join(tmp, 'checkpoint');
  await saveCheckpoint(model, checkpointDir);
  await fs.writeFile(path.join(checkpointDir, 'notes.txt'), 'not a checkpoint file');

  // a small image folder in the <root>/train/<class>/ layout, from the real CIFAR-10 JPEGs
  dataDir = path.join(tmp, 'data');
  for (const cls of ['airplane', 'cat']) {
    await fs.mkdir(path.join(dataDir, 'train', cls), { recursive: true });
    for (const name of ['0000.jpg', '0001.jpg']) {
      await fs.copyFile(path.join(cifarJpeg, 'train', cls, name), path.join(dataDir, 'train', cls, name));
    }
  }
  server = await startServer({ webRoot, checkpointDir, dataDir, port: 0 });
});

afterAll(async () => {
  await server?.close();
  model?.dispose();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('vitlens serve: static files', () => {
  it('binds to loopback on a free port when asked for port 0', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('serves index.html at / and each file with its content type', async () => {
    const expected: Array<[string, string]> = [
      ['/', 'text/html; charset=utf-8'],
      ['/index.html', 'text/html; charset=utf-8'],
      ['/assets/app-1234.js', 'text/javascript; charset=utf-8'],
      ['/assets/style-1234.css', 'text/css; charset=utf-8'],
      ['/assets/tfjs-backend-wasm-simd-1234.wasm', 'application/wasm'],
      ['/assets/data.json', 'application/json; charset=utf-8'],
    ];
    for (const [p, type] of expected) {
      const r = await raw(server, p);
      expect(r.status, p).toBe(200);
      expect(r.headers['content-type'], p).toBe(type);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
    }
    expect((await raw(server, '/')).body.toString()).toContain('<title>vitlens</title>');
    expect((await raw(server, '/assets/app-1234.js')).headers['cache-control']).toContain('immutable');
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await raw(server, '/assets/app-1234.js', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('14');
    expect(r.body.length).toBe(0);
  });

  it('answers 404 with a JSON error for a missing file', async () => {
    const r = await raw(server, '/nope.js');
    expect(r.status).toBe(404);
    expect(json(r).error).toMatch(/'nope.js' was not found/);
  });

  it('refuses every way of reaching a file outside the web root', async () => {
    const attempts: Array<[string, number]> = [
      ['/../secret.txt', 403],
      ['/assets/../../secret.txt', 403],
      ['/%2e%2e/secret.txt', 403],
      ['/%2E%2E/secret.txt', 403],
      ['/assets/%2e%2e%2f%2e%2e%2fsecret.txt', 403],
      ['/..%2fsecret.txt', 403],
      ['/..%5csecret.txt', 403],
      ['/%2e%2e%5csecret.txt', 403],
      ['/secret.txt%00.html', 403],
      ['/%zz', 400],
      ['/link-out.txt', 403],
      [`/${path.join(tmp, 'secret.txt')}`, 404], // an absolute path is looked up inside the root
      [`//${path.join(tmp, 'secret.txt')}`, 404],
      [`http://127.0.0.1/../secret.txt`, 403],
      ['/api/checkpoint/../../secret.txt', 403],
      ['/api/checkpoint/..%2f..%2fsecret.txt', 403],
      ['/api/checkpoint/notes.txt', 404],
    ];
    for (const [p, status] of attempts) {
      const r = await raw(server, p);
      expect(r.status, p).toBe(status);
      expect(r.body.toString(), p).not.toContain(SECRET);
      expect(typeof json(r).error, p).toBe('string');
    }
  });

  it('follows a symlink that stays inside the web root', async () => {
    const r = await raw(server, '/link-in.html');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toContain('<title>vitlens</title>');
  });

  it('answers 405 with Allow for methods other than GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await raw(server, '/', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('refuses request bodies (413), long URLs (414) and huge headers (431)', async () => {
    const body = await raw(server, '/', { headers: { 'Content-Length': '100000' }, body: Buffer.alloc(100000) });
    expect(body.status).toBe(413);
    expect(json(body).error).toMatch(/request body too large: 0 bytes allowed, got 100000/);
    const chunked = await raw(server, '/', { headers: { 'Transfer-Encoding': 'chunked' }, body: 'abc' });
    expect(chunked.status).toBe(413);
    expect((await raw(server, `/${'a'.repeat(5000)}`)).status).toBe(414);
    expect((await raw(server, '/', { headers: { 'X-Big': 'x'.repeat(32 * 1024) } })).status).toBe(431);
  });
});

describe('vitlens serve: checkpoint', () => {
  it('lists the checkpoint files with their sizes', async () => {
    const r = await raw(server, '/api/checkpoint');
    expect(r.status).toBe(200);
    const body = json(r) as { available: boolean; files: Record<string, number> };
    expect(body.available).toBe(true);
    for (const name of ['config.json', 'preprocessor_config.json', 'model.safetensors']) {
      expect(body.files[name]).toBe((await fs.stat(path.join(checkpointDir, name))).size);
    }
  });

  it('serves files a browser turns back into the same model', async () => {
    const config = await raw(server, '/api/checkpoint/config.json');
    const processor = await raw(server, '/api/checkpoint/preprocessor_config.json');
    const weights = await raw(server, '/api/checkpoint/model.safetensors');
    expect(config.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(weights.headers['content-type']).toBe('application/octet-stream');
    expect(weights.body.equals(await fs.readFile(path.join(checkpointDir, 'model.safetensors')))).toBe(true);
    const before = tf.memory().numTensors;
    const served = modelFromFiles({
      config: JSON.parse(config.body.toString()),
      processor: JSON.parse(processor.body.toString()),
      weights: new Uint8Array(weights.body),
      source: server.url,
    });
    const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const a = model.forward(x).logits;
    const b = served.forward(x).logits;
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    served.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('answers a clear 404 JSON error when the checkpoint folder is missing', async () => {
    const empty = await startServer({ webRoot, checkpointDir: path.join(tmp, 'models', 'default'), port: 0 });
    try {
      const r = await raw(empty, '/api/checkpoint');
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = json(r) as { available: boolean; error: string };
      expect(body.available).toBe(false);
      // named by its folder, never by an absolute path
      expect(body.error).toMatch(/no checkpoint at default: config.json and model.safetensors are missing/);
      expect(r.body.toString()).not.toContain(tmp);
      const file = await raw(empty, '/api/checkpoint/config.json');
      expect(file.status).toBe(404);
      expect(json(file).error).toMatch(/no checkpoint at/);
      expect((await raw(empty, '/api/sample')).status).toBe(404);
      const dataset = await raw(empty, '/api/dataset');
      expect(dataset.status).toBe(200);
      expect(json(dataset)).toEqual({ available: false, error: 'no dataset: start the server with --data <image folder>' });
    } finally {
      await empty.close();
    }
  });
});

describe('vitlens serve: dataset samples', () => {
  it('describes the dataset: split, classes and image count', async () => {
    const r = await raw(server, '/api/dataset');
    expect(r.status).toBe(200);
    expect(json(r)).toEqual({ available: true, split: 'train', heldOut: null, classes: ['airplane', 'cat'], count: 4 });
  });

  it('returns a random image with its true label', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const r = await raw(server, '/api/sample');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('image/jpeg');
      expect(r.headers['cache-control']).toBe('no-store');
      const sample = decodeURIComponent(String(r.headers['x-vitlens-sample']));
      const label = decodeURIComponent(String(r.headers['x-vitlens-label']));
      expect(sample.split('/')[0]).toBe(label);
      expect(['airplane', 'cat'].indexOf(label)).toBe(Number(r.headers['x-vitlens-class-index']));
      expect(r.body.equals(await fs.readFile(path.join(dataDir, 'train', sample)))).toBe(true);
      seen.add(sample);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('offers only the validation images training held out, when the checkpoint records its split', async () => {
    // a checkpoint over airplane/cat whose trainer_state.json says: 2 per class held out, seed 5
    const trained = path.join(tmp, 'trained');
    const config = createConfig('vit-mini-patch4-32', {
      hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, image_size: 8, patch_size: 4,
      id2label: { 0: 'airplane', 1: 'cat' }, label2id: { airplane: 0, cat: 1 },
    });
    const small = ViTForImageClassification.create(config, { seed: 1 });
    await saveCheckpoint(small, trained);
    small.dispose();
    const state = JSON.parse(await fs.readFile(path.join(repoRoot, 'models', 'default', 'trainer_state.json'), 'utf8'));
    state.config = { ...state.config, valPerClass: 2, seed: 5 };
    await fs.writeFile(path.join(trained, 'trainer_state.json'), JSON.stringify(state));
    // 7 images per class in the train/ layout, named so that natural and plain order differ
    const data = path.join(tmp, 'held-out-data');
    const names = ['img2.jpg', 'img10.jpg', 'img1.jpg', 'img3.jpg', 'img20.jpg', 'img4.jpg', 'img5.jpg'];
    for (const cls of ['airplane', 'cat']) {
      await fs.mkdir(path.join(data, 'train', cls), { recursive: true });
      for (const [i, name] of names.entries()) {
        await fs.copyFile(path.join(cifarJpeg, 'train', cls, `000${i}.jpg`), path.join(data, 'train', cls, name));
      }
    }
    // what vitlens train / evaluate --split val hold out: the loader's order, then stratifiedSplit
    const loaded = await loadDataset(data, { split: 'train', classNames: ['airplane', 'cat'] });
    const { val } = stratifiedSplit(loaded.labels, 2, { valPerClass: 2, seed: 5 });
    const natural = [...names].sort(naturalCompare);
    const expected = new Set(Array.from(val, (i) => `${['airplane', 'cat'][loaded.labels[i]!]}/${natural[i % names.length]}`));
    expect(expected.size).toBe(4);

    const held = await startServer({ webRoot, checkpointDir: trained, dataDir: data, port: 0 });
    try {
      expect(json(await raw(held, '/api/dataset'))).toEqual({
        available: true, split: 'train', heldOut: { valPerClass: 2, seed: 5 }, classes: ['airplane', 'cat'], count: 4,
      });
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) seen.add(decodeURIComponent(String((await raw(held, '/api/sample')).headers['x-vitlens-sample'])));
      expect(seen).toEqual(expected);
    } finally {
      await held.close();
    }
    // a data folder with a class the checkpoint does not know: every image, and the reason
    const mixed = path.join(tmp, 'mixed-data');
    for (const cls of ['airplane', 'frog']) {
      await fs.mkdir(path.join(mixed, 'train', cls), { recursive: true });
      for (const name of ['0000.jpg', '0001.jpg', '0002.jpg']) await fs.copyFile(path.join(cifarJpeg, 'train', cls, name), path.join(mixed, 'train', cls, name));
    }
    const other = await startServer({ webRoot, checkpointDir: trained, dataDir: mixed, port: 0 });
    try {
      expect(json(await raw(other, '/api/dataset'))).toMatchObject({ heldOut: null, count: 6 });
      expect(other.dataset?.warning).toMatch(/no folder for class\(es\) cat \(found: airplane, frog\)/);
    } finally {
      await other.close();
    }
  });

  it('reads the <root>/<class>/ layout too, and names the folder when it holds no images', async () => {
    const flat = await startServer({ webRoot, dataDir: path.join(dataDir, 'train'), port: 0 });
    try {
      expect(json(await raw(flat, '/api/dataset'))).toMatchObject({ split: '', classes: ['airplane', 'cat'], count: 4 });
    } finally {
      await flat.close();
    }
    await expect(startServer({ webRoot, dataDir: webRoot, port: 0 })).rejects.toThrow(/--data .*web: no images found/);
    await expect(startServer({ webRoot, dataDir: path.join(tmp, 'missing'), port: 0 })).rejects.toThrow(/--data .*missing: not a folder/);
  });
});

describe('vitlens serve: the built command', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('prints the URL of a random free port and serves the page and the checkpoint', async () => {
    child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--checkpoint', checkpointDir, '--data', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child?.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /serving the page at (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child?.stderr?.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child?.on('exit', (code) => reject(new Error(`vitlens serve exited with ${code}: ${out}`)));
    });
    expect(out).toMatch(/random samples from .*train \(4 images, 2 classes\)/);
    const { port } = new URL(url);
    const target = { host: '127.0.0.1', port: Number(port) };
    const page = await raw(target, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(json(await raw(target, '/api/checkpoint')).available).toBe(true);
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    child = undefined;
  });

  it('says which port is busy and how to pick another when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as net.AddressInfo).port;
    try {
      const { code, err } = await new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(process.execPath, [bin, 'serve', '--port', String(busy), '--checkpoint', checkpointDir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        p.stderr.on('data', (c: Buffer) => {
          err += c.toString();
        });
        p.on('exit', (code) => resolve({ code, err }));
      });
      expect(code).toBe(1);
      expect(err).toBe(`vitlens: port ${busy} on 127.0.0.1 is already in use (EADDRINUSE); pick another with --port <n>, or --port 0 for any free port\n`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('rejects a port out of range naming the flag', async () => {
    const result = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, [bin, 'serve', '--port', '70000'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (c: Buffer) => {
        err += c.toString();
      });
      p.on('exit', () => resolve(err));
    });
    expect(result).toMatch(/--port expects an integer from 0 to 65535 \(0 picks a free port\), got '70000'/);
  });
});
