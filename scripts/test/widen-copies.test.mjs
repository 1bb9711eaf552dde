// scripts/widen-copies.mjs: the median cosine between the two copies that `vitlens widen` makes of each
// residual-stream channel — 1 for exact copies, about 0 for unrelated weights. `node --test scripts/test/`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { widenCopySimilarity } from '../widen-copies.mjs';

const HIDDEN = 8;
const MLP = 6;
const TOKENS = 5;

/** Seeded uniform noise in [-1, 1). */
function noise(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/**
 * A 2-layer HF-layout ViT's weights whose stream channels j and j + HIDDEN/2 are exact copies
 * (`copies`) or independent random values.
 */
function weights(copies, seed = 1) {
  const rand = noise(seed);
  const half = HIDDEN / 2;
  const stream = (j) => (copies ? j % half : j);
  const matrix = (rows, cols, rowsAreStream, colsAreStream) => {
    const base = Array.from({ length: rows * cols }, rand);
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) data[r * cols + c] = base[(rowsAreStream ? stream(r) : r) * cols + (colsAreStream ? stream(c) : c)];
    }
    return { shape: [rows, cols], data };
  };
  const w = new Map();
  const patch = matrix(HIDDEN, 3 * 2 * 2, true, false);
  w.set('vit.embeddings.patch_embeddings.projection.weight', { shape: [HIDDEN, 3, 2, 2], data: patch.data });
  const position = matrix(TOKENS, HIDDEN, false, true);
  w.set('vit.embeddings.position_embeddings', { shape: [1, TOKENS, HIDDEN], data: position.data });
  for (let l = 0; l < 2; l++) {
    const p = `vit.encoder.layer.${l}.`;
    w.set(`${p}output.dense.weight`, matrix(HIDDEN, MLP, true, false));
    w.set(`${p}attention.output.dense.weight`, matrix(HIDDEN, HIDDEN, true, false));
    w.set(`${p}attention.attention.query.weight`, matrix(HIDDEN, HIDDEN, false, true));
    w.set(`${p}attention.attention.value.weight`, matrix(HIDDEN, HIDDEN, false, true));
    w.set(`${p}intermediate.dense.weight`, matrix(MLP, HIDDEN, false, true));
  }
  return w;
}

const values = ({ embeddings, layers }) => [...Object.values(embeddings), ...layers.flatMap((l) => Object.values(l))];

test('exact copies give 1 for every writer and reader of every layer', () => {
  const result = widenCopySimilarity(weights(true));
  assert.equal(result.layers.length, 2);
  for (const v of values(result)) assert.ok(Math.abs(v - 1) < 1e-6, `${v}`);
});

test('independent weights give values far from 1', () => {
  for (const v of values(widenCopySimilarity(weights(false, 7)))) assert.ok(v < 0.9, `${v}`);
});

test('a model that is not in the Hugging Face layout is named as such', () => {
  assert.throws(() => widenCopySimilarity(new Map()), /no tensor 'vit\.embeddings\.patch_embeddings\.projection\.weight'/);
});
