import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stratifiedSplit } from '@vitlens/cifar10-data';
import { listImageFolder } from '@vitlens/cifar10-data/node';
import { initBackend } from '@vitlens/core';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';
import { saveCheckpoint } from '@vitlens/vit-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostChecker, startServer } from '../src/server/server';
import { postBody } from '../scripts/http-probes.mjs';
import { json, raw } from './helpers/http';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cifarJpeg = process.env.VITLENS_CIFAR10_JPEG ?? path.join(repoRoot, '..', 'shared', 'data', 'cifar10-jpeg');
const SECRET = 'secret-bytes-outside-every-served-folder';
const CLASSES = ['airplane', 'cat'];

let tmp: string;
let webRoot: string;
let secret: string;

/** A checkpoint over airplane/cat whose trainer_state.json says which images training held out. */
async function writeCheckpoint(dir: string, heldOut?: { valPerClass: number; seed: number }): Promise<void> {
  const config = createConfig('vit-mini-patch4-32', {
    hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, image_size: 8, patch_size: 4,
    id2label: { 0: 'airplane', 1: 'cat' },
  });
  const model = ViTForImageClassification.create(config, { seed: 1 });
  await saveCheckpoint(model, dir);
  model.dispose();
  if (heldOut) {
    const state = JSON.parse(await fs.readFile(path.join(repoRoot, 'models', 'default', 'trainer_state.json'), 'utf8'));
    state.config = { ...state.config, ...heldOut };
    await fs.writeFile(path.join(dir, 'trainer_state.json'), JSON.stringify(state));
  }
}

/** `<data>/train/<class>/000N.jpg`, N = 1..4 real CIFAR images; `0000.jpg` a link to a file outside. */
async function writeLinkedData(data: string): Promise<void> {
  for (const cls of CLASSES) {
    const dir = path.join(data, 'train', cls);
    await fs.mkdir(dir, { recursive: true });
    await fs.symlink(secret, path.join(dir, '0000.jpg'));
    for (let i = 1; i <= 4; i++) await fs.copyFile(path.join(cifarJpeg, 'train', cls, `000${i}.jpg`), path.join(dir, `000${i}.jpg`));
  }
}

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-serve-hard-'));
  webRoot = path.join(tmp, 'web');
  await fs.mkdir(webRoot, { recursive: true });
  await fs.writeFile(path.join(webRoot, 'index.html'), '<!doctype html><title>vitlens</title>');
  secret = path.join(tmp, 'secret.jpg');
  await fs.writeFile(secret, SECRET);
});

afterAll(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('vitlens serve: files resolve inside the folder they are served from', () => {
  it('/api/sample never sends a linked file from outside the data folder, held-out samples included', async () => {
    const data = path.join(tmp, 'linked-data');
    await writeLinkedData(data);
    // a seed whose held-out images include the linked 0000.jpg of both classes (the loader lists links)
    const listing = await listImageFolder(data, { split: 'train', classNames: CLASSES });
    const labels = Uint8Array.from(listing.files, (f) => f.label);
    const heldOutLink = (seed: number) => {
      const { val } = stratifiedSplit(labels, 2, { valPerClass: 3, seed });
      return Array.from(val).filter((i) => listing.files[i]!.file.endsWith('0000.jpg')).length === 2;
    };
    const seed = Array.from({ length: 50 }, (_, s) => s).find(heldOutLink);
    expect(seed).toBeDefined();
    const checkpoint = path.join(tmp, 'held-out-ckpt');
    await writeCheckpoint(checkpoint, { valPerClass: 3, seed: seed! });
    for (const dataDir of [data, path.join(data, 'train')]) {
      const server = await startServer({ webRoot, checkpointDir: checkpoint, dataDir, port: 0 });
      try {
        for (let i = 0; i < 60; i++) {
          const r = await raw(server, '/api/sample');
          expect(r.status).toBe(200);
          expect(r.body.toString('latin1')).not.toContain(SECRET);
          expect(decodeURIComponent(String(r.headers['x-vitlens-sample']))).not.toMatch(/0000\.jpg$/);
        }
      } finally {
        await server.close();
      }
    }
  }, 120_000);

  it('/api/sample refuses an image replaced by a link after the start (403), and a deleted one is a 404 without paths', async () => {
    const data = path.join(tmp, 'swapped-data');
    for (const cls of CLASSES) {
      await fs.mkdir(path.join(data, 'test', cls), { recursive: true });
      await fs.copyFile(path.join(cifarJpeg, 'train', cls, '0001.jpg'), path.join(data, 'test', cls, '0001.jpg'));
    }
    const server = await startServer({ webRoot, dataDir: data, port: 0 });
    try {
      await fs.rm(path.join(data, 'test', 'airplane', '0001.jpg'));
      await fs.symlink(secret, path.join(data, 'test', 'airplane', '0001.jpg'));
      await fs.rm(path.join(data, 'test', 'cat', '0001.jpg'));
      const statuses = new Set<number>();
      for (let i = 0; i < 30; i++) {
        const r = await raw(server, '/api/sample');
        statuses.add(r.status);
        expect(r.body.toString('latin1')).not.toContain(SECRET);
        expect(r.body.toString()).not.toContain(tmp); // before: a 500 naming the absolute path
        expect(json(r).error).toMatch(r.status === 403 ? /'airplane\/0001\.jpg' is a link to a file outside the served folder/ : /'cat\/0001\.jpg' was not found/);
      }
      expect([...statuses].sort()).toEqual([403, 404]);
    } finally {
      await server.close();
    }
  });

  it('/api/checkpoint/<file> never sends a linked file from outside the checkpoint folder', async () => {
    const linked = path.join(tmp, 'linked-ckpt');
    await writeCheckpoint(linked);
    await fs.rm(path.join(linked, 'preprocessor_config.json'));
    await fs.symlink(secret, path.join(linked, 'preprocessor_config.json'));
    const server = await startServer({ webRoot, checkpointDir: linked, port: 0 });
    try {
      const listing = await raw(server, '/api/checkpoint');
      expect(listing.status).toBe(404);
      expect(json(listing).error).toMatch(/'preprocessor_config\.json' is a link to a file outside the served folder/);
      const file = await raw(server, '/api/checkpoint/preprocessor_config.json');
      expect(file.status).toBe(404);
      expect(file.body.toString()).not.toContain(SECRET);
    } finally {
      await server.close();
    }
    // swapped for a link while the server runs
    const swapped = path.join(tmp, 'swapped-ckpt');
    await writeCheckpoint(swapped);
    const running = await startServer({ webRoot, checkpointDir: swapped, port: 0 });
    try {
      expect((await raw(running, '/api/checkpoint/preprocessor_config.json')).status).toBe(200);
      await fs.rm(path.join(swapped, 'preprocessor_config.json'));
      await fs.symlink(secret, path.join(swapped, 'preprocessor_config.json'));
      const r = await raw(running, '/api/checkpoint/preprocessor_config.json');
      expect([403, 404]).toContain(r.status);
      expect(r.body.toString()).not.toContain(SECRET);
    } finally {
      await running.close();
    }
  });
});

describe('vitlens serve: Host header (DNS rebinding)', () => {
  it('answers loopback names and the bound address, and refuses any other host name', async () => {
    const server = await startServer({ webRoot, port: 0, allowedHosts: ['vitlens.lan'] });
    try {
      for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, 'localhost', `[::1]:${server.port}`, 'app.localhost', `vitlens.lan:${server.port}`]) {
        expect((await raw(server, '/', { headers: { Host: host } })).status, host).toBe(200);
      }
      for (const host of [`evil.example:${server.port}`, 'evil.example', `127.0.0.1.evil.example:${server.port}`, `localhost.evil.example`, '192.168.1.20']) {
        const r = await raw(server, '/', { headers: { Host: host } });
        expect(r.status, host).toBe(403);
        expect(json(r).error).toMatch(/is not a name of this server/);
        expect((await raw(server, '/api/checkpoint', { headers: { Host: host } })).status).toBe(403);
      }
      // HTTP/1.0 without a Host header
      const reply = await new Promise<string>((resolve) => {
        const socket = net.connect(server.port, '127.0.0.1', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
        let text = '';
        socket.on('data', (d) => {
          text += d.toString();
        });
        socket.on('close', () => resolve(text));
      });
      expect(reply).toMatch(/^HTTP\/1\.[01] 403/);
    } finally {
      await server.close();
    }
  });

  it('bound to every interface, accepts IP addresses but still no other names', () => {
    const allowed = hostChecker('0.0.0.0');
    expect(allowed('192.168.1.20:8080')).toBe(true);
    expect(allowed('[fe80::1]:8080')).toBe(true);
    expect(allowed('evil.example:8080')).toBe(false);
    expect(allowed(undefined)).toBe(false);
    const specific = hostChecker('192.168.1.20');
    expect(specific('192.168.1.20:8080')).toBe(true);
    expect(specific('192.168.1.21:8080')).toBe(false);
  });
});

describe('vitlens serve: bodies, paths and broken checkpoints', () => {
  it('answers a 100 MB POST with 405 and closes the connection instead of reading the body', async () => {
    const server = await startServer({ webRoot, port: 0 });
    try {
      const total = 100 * 2 ** 20;
      const result = await postBody(server, total);
      expect(result.status).toBe(405);
      expect(result.sent).toBeLessThan(total / 2); // before: the server read all 100 MB
    } finally {
      await server.close();
    }
  }, 60_000);

  it('never puts an absolute path in /api/checkpoint', async () => {
    const dir = path.join(tmp, 'named', 'my-run');
    await writeCheckpoint(dir);
    const server = await startServer({ webRoot, checkpointDir: dir, port: 0 });
    try {
      const r = await raw(server, '/api/checkpoint');
      expect(r.status).toBe(200);
      expect(json(r).name).toBe('my-run');
      expect(r.body.toString()).not.toContain(tmp);
    } finally {
      await server.close();
    }
  });

  it('reports a checkpoint with a broken config.json, patch_size 0 or a truncated model.safetensors as unavailable, naming the file', async () => {
    const cases: Array<[string, (dir: string) => Promise<void>, RegExp]> = [
      ['broken-json', (dir) => fs.writeFile(path.join(dir, 'config.json'), '{"model_type": "vit",'), /broken-json\/config\.json: not valid JSON/],
      [
        'patch-0',
        async (dir) => {
          const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
          await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...config, patch_size: 0 }));
        },
        /patch-0\/config\.json: patch_size must be a positive integer, got 0/,
      ],
      [
        'truncated',
        async (dir) => {
          const bytes = await fs.readFile(path.join(dir, 'model.safetensors'));
          await fs.writeFile(path.join(dir, 'model.safetensors'), bytes.subarray(0, bytes.length - 1000));
        },
        /truncated\/model\.safetensors: .*data section/,
      ],
    ];
    const data = path.join(tmp, 'broken-data');
    await writeLinkedData(data);
    for (const [name, breakIt, message] of cases) {
      const dir = path.join(tmp, 'broken', name);
      await writeCheckpoint(dir, { valPerClass: 1, seed: 1 });
      await breakIt(dir);
      // with --data too: samples fall back to every image instead of failing on the config
      const server = await startServer({ webRoot, checkpointDir: dir, dataDir: data, port: 0 });
      try {
        expect(server.checkpoint.available, name).toBe(false);
        const r = await raw(server, '/api/checkpoint');
        expect(r.status, name).toBe(404);
        expect(json(r).error, name).toMatch(message);
        expect(r.body.toString(), name).not.toContain(tmp);
        expect((await raw(server, '/api/checkpoint/model.safetensors')).status, name).toBe(404);
      } finally {
        await server.close();
      }
    }
  });
});
