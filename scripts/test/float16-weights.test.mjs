// scripts/float16-weights.mjs: the shipped model stored as F16 keeps its names, shapes, metadata and
// predictions. `node --test scripts/test/` (after the build: it uses the built packages).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { copyAsFloat16 } from '../float16-weights.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHIPPED = path.join(REPO, 'models', 'default');
const load = (pkg) => import(pathToFileURL(path.join(REPO, pkg)).href);

test('copyAsFloat16 halves the shipped weights and keeps every tensor, the metadata and the predictions', async () => {
  const core = await load('packages/core/dist/index.js');
  const vit = await load('packages/vit-model/dist/index.js');
  await core.initBackend({ prefer: 'cpu' });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vitlens-f16-'));
  try {
    // The source is float32, as a run writes it: the shipped weights (stored as F16 since 12-06) widened back.
    const shipped = core.readSafetensors(new Uint8Array(fs.readFileSync(path.join(SHIPPED, 'model.safetensors'))));
    const asFloat32 = new Map([...shipped.tensors].map(([name, t]) => [name, { dtype: 'F32', shape: t.shape, data: core.tensorToFloat32(t) }]));
    const from = path.join(tmp, 'float32.safetensors');
    fs.writeFileSync(from, core.writeSafetensors(asFloat32, shipped.metadata));
    const to = path.join(tmp, 'model.safetensors');
    await copyAsFloat16(from, to);
    const original = core.readSafetensors(new Uint8Array(fs.readFileSync(from)));
    const half = core.readSafetensors(new Uint8Array(fs.readFileSync(to)));
    assert.deepEqual([...half.tensors.keys()].sort(), [...original.tensors.keys()].sort());
    assert.deepEqual(half.metadata, original.metadata);
    for (const [name, tensor] of half.tensors) {
      assert.equal(tensor.dtype, 'F16', name);
      assert.deepEqual(tensor.shape, original.tensors.get(name).shape, name);
    }
    const bytes = (file) => fs.statSync(file).size;
    assert.ok(bytes(to) < 0.51 * bytes(from), `${bytes(to)} bytes is not about half of ${bytes(from)}`);

    // The same classes, logits within 1% of their range, on random images through both checkpoints.
    const files = (weights) => ({
      config: JSON.parse(fs.readFileSync(path.join(SHIPPED, 'config.json'), 'utf8')),
      processor: JSON.parse(fs.readFileSync(path.join(SHIPPED, 'preprocessor_config.json'), 'utf8')),
      weights: new Uint8Array(fs.readFileSync(weights)),
    });
    const full = vit.modelFromFiles(files(from));
    const f16 = vit.modelFromFiles(files(to));
    const { tf } = core;
    const [a, b] = tf.tidy(() => {
      const size = full.config.image_size;
      const pixels = tf.randomUniform([16, size, size, 3], -1, 1, 'float32', 3);
      return [full.forward(pixels).logits.arraySync(), f16.forward(pixels).logits.arraySync()];
    });
    full.dispose();
    f16.dispose();
    const argmax = (row) => row.indexOf(Math.max(...row));
    assert.deepEqual(b.map(argmax), a.map(argmax));
    const range = Math.max(...a.flat()) - Math.min(...a.flat());
    const worst = Math.max(...a.flatMap((row, i) => row.map((v, k) => Math.abs(v - b[i][k]))));
    assert.ok(worst < 0.01 * range, `logits differ by ${worst} of a range of ${range}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
