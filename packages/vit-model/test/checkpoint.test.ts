import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { initBackend, readSafetensors, tf, writeSafetensors } from '@vitlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, ViTForImageClassification, createConfig, modelFromFiles, modelToFiles } from '../src';
import { loadCheckpoint, saveCheckpoint } from '../src/node';
import { FIXTURES, fixtureFiles } from './helpers';

let tmp: string;
beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-vit-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const small = () => createConfig('vit-mini-patch4-32', { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, image_size: 8 });

function logitsOf(model: ViTForImageClassification, seed = 1): Float32Array {
  return tf.tidy(() => {
    const size = model.config.image_size;
    return model.forward(tf.randomNormal([2, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D).logits.dataSync() as Float32Array;
  });
}

function weightsWith(edit: (m: Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>) => void): Uint8Array {
  const { tensors } = readSafetensors(fixtureFiles('tiny-vit').weights);
  const m = new Map([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.data as Float32Array }]));
  edit(m);
  return writeSafetensors(m, { format: 'pt' });
}

describe('checkpoints in Hugging Face layout', () => {
  it('saves config.json, preprocessor_config.json and model.safetensors that reload to identical outputs', async () => {
    const model = ViTForImageClassification.create(small(), { seed: 5 });
    const dir = path.join(tmp, 'saved');
    await saveCheckpoint(model, dir);
    expect((await fs.readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors', 'preprocessor_config.json']);
    const config = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['ViTForImageClassification']);
    expect(config.id2label['9']).toBe('truck');
    const { tensors, metadata } = readSafetensors(new Uint8Array(await fs.readFile(path.join(dir, 'model.safetensors'))));
    expect(metadata.format).toBe('pt');
    expect(tensors.get('vit.encoder.layer.1.attention.output.dense.weight')!.shape).toEqual([16, 16]);
    expect(tensors.get('vit.encoder.layer.0.intermediate.dense.weight')!.shape).toEqual([32, 16]); // [out, in]
    expect(tensors.get('vit.embeddings.patch_embeddings.projection.weight')!.shape).toEqual([16, 3, 4, 4]);

    const reloaded = await loadCheckpoint(dir);
    expect(reloaded.config).toEqual(model.config);
    expect(reloaded.processor).toEqual(model.processor);
    expect(logitsOf(reloaded)).toEqual(logitsOf(model));
    for (const [name, v] of model.params) expect(reloaded.params.get(name)!.dataSync(), name).toEqual(v.dataSync());
    model.dispose();
    reloaded.dispose();
  });

  it('round-trips the reference fixture byte-for-byte in tensor values', () => {
    const files = fixtureFiles('tiny-vit');
    const model = modelFromFiles(files);
    const out = modelToFiles(model);
    const a = readSafetensors(files.weights).tensors;
    const b = readSafetensors(out.weights).tensors;
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, t] of a) expect(b.get(k)!.data, k).toEqual(t.data);
    model.dispose();
  });

  it('keeps the checkpoint head when id2label equals its labels, replaces it otherwise', () => {
    const files = fixtureFiles('tiny-vit');
    const same = modelFromFiles(files, { id2label: (files.config as { id2label: Record<string, string> }).id2label });
    expect(same.initializedFromSeed).toEqual([]);
    const other = modelFromFiles(files, { id2label: { '0': 'yes', '1': 'no' }, seed: 1 });
    expect(other.params.get('classifier.weight')!.shape).toEqual([2, 24]);
    expect(other.initializedFromSeed.sort()).toEqual(['classifier.bias', 'classifier.weight']);
    same.dispose();
    other.dispose();
  });

  it('lists missing and unexpected keys by name', () => {
    const files = fixtureFiles('tiny-vit');
    const weights = weightsWith((m) => {
      m.delete('vit.encoder.layer.1.output.dense.bias');
      m.set('vit.encoder.layer.7.output.dense.bias', { dtype: 'F32', shape: [24], data: new Float32Array(24) });
    });
    expect(() => modelFromFiles({ ...files, weights })).toThrow(CheckpointError);
    expect(() => modelFromFiles({ ...files, weights })).toThrow(
      /model.safetensors does not match .*config.json .*missing keys: vit.encoder.layer.1.output.dense.bias; unexpected keys: vit.encoder.layer.7.output.dense.bias/,
    );
  });

  it('names the tensor, the expected and the actual shape on a shape mismatch', () => {
    const files = fixtureFiles('tiny-vit');
    const weights = weightsWith((m) => m.set('vit.layernorm.weight', { dtype: 'F32', shape: [12], data: new Float32Array(12) }));
    expect(() => modelFromFiles({ ...files, weights })).toThrow(/tensor 'vit.layernorm.weight' has shape \[12\], expected \[24\]/);
  });

  it('names the tensor and the dtype when a weight is not floating point', () => {
    const files = fixtureFiles('tiny-vit');
    const { tensors } = readSafetensors(files.weights);
    const m = new Map<string, { dtype: 'F32' | 'I32'; shape: number[]; data: Float32Array | Int32Array }>(
      [...tensors].map(([k, t]) => [k, { dtype: 'F32', shape: t.shape, data: t.data as Float32Array }]),
    );
    m.set('classifier.bias', { dtype: 'I32', shape: [10], data: new Int32Array(10) });
    expect(() => modelFromFiles({ ...files, weights: writeSafetensors(m) })).toThrow(/tensor 'classifier.bias' has dtype I32; expected a float dtype/);
  });

  it('rejects an image size that is not a multiple of the patch size', () => {
    expect(() => modelFromFiles(fixtureFiles('tiny-vit'), { imageSize: 18 })).toThrow(/18 must be a positive multiple of patch_size 4/);
  });

  it('says what a checkpoint folder must hold when a file is missing', async () => {
    const dir = path.join(tmp, 'empty');
    await fs.mkdir(dir, { recursive: true });
    await expect(loadCheckpoint(dir)).rejects.toThrow(/empty: no config.json; a vitlens\/Hugging Face checkpoint folder holds/);
    await expect(loadCheckpoint('not a source')).rejects.toThrow(/is not a folder, an http\(s\) URL or a Hugging Face Hub id/);
  });
});

describe('loading over HTTP with a cache', () => {
  let server: http.Server;
  let base: string;
  const requests: string[] = [];
  beforeAll(async () => {
    server = http.createServer(async (req, res) => {
      requests.push(req.url ?? '');
      // Serves the fixture as a folder (/ckpt/<file>) and as a Hub repo (/org/tiny/resolve/main/<file>).
      const m = /^\/(?:ckpt|org\/tiny\/resolve\/main)\/([\w.]+)$/.exec(req.url ?? '');
      try {
        if (!m) throw new Error('not found');
        const body = await fs.readFile(path.join(FIXTURES, 'tiny-vit', m[1]!));
        res.writeHead(200).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('downloads a folder URL into the cache and loads the same model as the local folder', async () => {
    const cacheDir = path.join(tmp, 'cache-url');
    const remote = await loadCheckpoint(`${base}/ckpt`, { cacheDir });
    const local = modelFromFiles(fixtureFiles('tiny-vit'));
    expect(logitsOf(remote)).toEqual(logitsOf(local));
    const [folder] = await fs.readdir(cacheDir);
    expect(folder).toMatch(/^url-[0-9a-f]{16}$/);
    expect((await fs.readdir(path.join(cacheDir, folder!))).sort()).toEqual(['config.json', 'model.safetensors', 'preprocessor_config.json']);
    remote.dispose();
    local.dispose();
  });

  it('fetches a Hub id from <endpoint>/<id>/resolve/main, then loads it offline from the cache', async () => {
    const cacheDir = path.join(tmp, 'cache-hub');
    requests.length = 0;
    const first = await loadCheckpoint('org/tiny', { cacheDir, hubEndpoint: base });
    expect(requests).toEqual(['/org/tiny/resolve/main/config.json', '/org/tiny/resolve/main/preprocessor_config.json', '/org/tiny/resolve/main/model.safetensors']);
    expect(await fs.readdir(cacheDir)).toEqual(['org--tiny']);
    // An endpoint where nothing listens: the cached copy is used without the network.
    const offline = await loadCheckpoint('org/tiny', { cacheDir, hubEndpoint: 'http://127.0.0.1:9' });
    expect(logitsOf(offline)).toEqual(logitsOf(first));
    first.dispose();
    offline.dispose();
  });

  it('offline and not cached: a clear error that says where to put the files', async () => {
    const cacheDir = path.join(tmp, 'cache-offline');
    await expect(loadCheckpoint('google/vit-base-patch16-224', { cacheDir, hubEndpoint: 'http://127.0.0.1:9' })).rejects.toThrow(
      new RegExp(`could not download http://127.0.0.1:9/google/vit-base-patch16-224/resolve/main/config.json .*put config.json, preprocessor_config.json and model.safetensors in ${cacheDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/google--vit-base-patch16-224`),
    );
  });

  it('reports an HTTP error with its status and URL', async () => {
    await expect(loadCheckpoint(`${base}/missing`, { cacheDir: path.join(tmp, 'cache-404') })).rejects.toThrow(/missing\/config.json: HTTP 404/);
  });
});
