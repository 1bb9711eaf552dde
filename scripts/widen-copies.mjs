#!/usr/bin/env node
// How far the copies made by `vitlens widen --factor 2` have come apart: for a ViT whose residual
// stream was doubled (wide channel j and j + hidden/2 both copied narrow channel j), the median cosine
// similarity between the two copies of each
//   - writer row: patch-embedding filters, attention-output and MLP-output rows, position-embedding
//     channels (1 = the copies still write the same thing: the stream carries hidden/2 channels twice);
//   - reader column: query, value and MLP-input weights on the two copies (1 = read alike).
// Unrelated rows or columns give about 0.
//
//   node scripts/widen-copies.mjs <model.safetensors>        (uses the built @vitlens/core)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Median over i < half of cos(vector i, vector i + half), where vector(i) = `at(i, k)` for k < length. */
function medianCopyCosine(half, length, at) {
  const cosines = [];
  for (let i = 0; i < half; i++) {
    let dot = 0;
    let a2 = 0;
    let b2 = 0;
    for (let k = 0; k < length; k++) {
      const a = at(i, k);
      const b = at(i + half, k);
      dot += a * b;
      a2 += a * a;
      b2 += b * b;
    }
    cosines.push(dot / Math.sqrt(a2 * b2 || 1));
  }
  cosines.sort((x, y) => x - y);
  const mid = cosines.length >> 1;
  return cosines.length % 2 ? cosines[mid] : (cosines[mid - 1] + cosines[mid]) / 2;
}

/** Rows [0, half) against rows [half, 2·half) of a [rows, cols] matrix (row-major). */
const rowCopies = (data, cols, half) => medianCopyCosine(half, cols, (i, k) => data[i * cols + k]);
/** Columns [0, half) against columns [half, 2·half) of a [rows, cols] matrix. */
const columnCopies = (data, rows, cols, half) => medianCopyCosine(half, rows, (j, k) => data[k * cols + j]);

/**
 * Copy similarities of a widened HF-layout ViT (`vit.` names), given name → { shape, data: Float32Array }.
 * Returns { embeddings: {...}, layers: [{ attentionOutput, mlpOutput, query, value, mlpInput }, …] }.
 */
export function widenCopySimilarity(weights) {
  const get = (name) => {
    const w = weights.get(name);
    if (!w) throw new Error(`widen-copies: no tensor '${name}' (expected a ViT in the Hugging Face layout)`);
    return w;
  };
  const patch = get('vit.embeddings.patch_embeddings.projection.weight'); // [hidden, channels, p, p]
  const hidden = patch.shape[0];
  if (hidden % 2) throw new Error(`widen-copies: hidden size ${hidden} is odd; expected a model widened by 2`);
  const half = hidden / 2;
  const position = get('vit.embeddings.position_embeddings'); // [1, tokens, hidden]
  const embeddings = {
    patchEmbedding: rowCopies(patch.data, patch.data.length / hidden, half),
    positionEmbedding: columnCopies(position.data, position.shape[1], hidden, half),
  };
  const layers = [];
  for (let l = 0; weights.has(`vit.encoder.layer.${l}.output.dense.weight`); l++) {
    const p = `vit.encoder.layer.${l}.`;
    const mlpOut = get(`${p}output.dense.weight`); // [hidden, mlp]
    const attnOut = get(`${p}attention.output.dense.weight`); // [hidden, hidden]
    const query = get(`${p}attention.attention.query.weight`); // [hidden, hidden]: columns read the stream
    const value = get(`${p}attention.attention.value.weight`);
    const mlpIn = get(`${p}intermediate.dense.weight`); // [mlp, hidden]
    layers.push({
      attentionOutput: rowCopies(attnOut.data, hidden, half),
      mlpOutput: rowCopies(mlpOut.data, mlpOut.shape[1], half),
      query: columnCopies(query.data, hidden, hidden, half),
      value: columnCopies(value.data, hidden, hidden, half),
      mlpInput: columnCopies(mlpIn.data, mlpIn.shape[0], hidden, half),
    });
  }
  return { embeddings, layers };
}

async function main() {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node scripts/widen-copies.mjs <model.safetensors>');
  const core = await import(pathToFileURL(path.join(REPO, 'packages/core/dist/index.js')).href);
  const { tensors } = core.readSafetensors(new Uint8Array(fs.readFileSync(file)), { source: file });
  const weights = new Map([...tensors].map(([name, t]) => [name, { shape: t.shape, data: core.tensorToFloat32(t) }]));
  const { embeddings, layers } = widenCopySimilarity(weights);
  const f = (x) => x.toFixed(3);
  console.log(`${file}: median cosine between the two copies (1 = still copies, ≈ 0 = unrelated)`);
  console.log(`embeddings  patch rows ${f(embeddings.patchEmbedding)}  position channels ${f(embeddings.positionEmbedding)}`);
  console.log('layer  writers: attention-out  MLP-out | readers: query  value  MLP-in');
  layers.forEach((l, i) => console.log(`${String(i).padStart(5)}  ${f(l.attentionOutput).padStart(22)}  ${f(l.mlpOutput).padStart(7)} | ${f(l.query).padStart(14)}  ${f(l.value)}  ${f(l.mlpInput)}`));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
