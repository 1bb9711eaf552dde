// Maps from plain typed arrays: no TensorFlow.js, no model. Each layer's attention is a Float32Array
// [heads, T, T] (row = query, column = key) over the tokens [CLS, patch 0 … patch N−1].
import {
  attentionMap,
  attentionRollout,
  clsAttention,
  dinoMasks,
  gradientAttention,
  headMaps,
  patchGrid,
  toGrid,
} from '@vitlens/attention-viz';

const round = (map) => Array.from(map.data, (v) => Number(v.toFixed(4)));
const argmax = (map) => map.data.indexOf(Math.max(...map.data));

// One head over a 2×3 grid (T = 7): the CLS row is what clsAttention reads.
const small = new Float32Array(7 * 7);
small.set([0.1, 0.1, 0.2, 0.05, 0.3, 0.15, 0.1]); // row 0: CLS → [CLS, patch 0 … patch 5]
console.log(round(clsAttention(small, { heads: 1, gridHeight: 2, gridWidth: 3 })));
// [ 0.1, 0.2, 0.05, 0.3, 0.15, 0.1 ]

// A toy model: 32×32 images in 4×4 patches, 4 heads, 3 layers; every token keeps half its
// attention on itself and CLS looks at patch 21 (row 2, column 5).
const { gridHeight, gridWidth } = patchGrid(32, 32, 4); // { gridHeight: 8, gridWidth: 8 }
const heads = 4;
const T = 1 + gridHeight * gridWidth;
function toyLayer(focus) {
  const layer = new Float32Array(heads * T * T).fill(0.5 / T);
  for (let h = 0; h < heads; h++) {
    for (let q = 0; q < T; q++) layer[(h * T + q) * T + (q === 0 ? 1 + focus : q)] += 0.5;
  }
  return layer;
}
const layers = [toyLayer(21), toyLayer(21), toyLayer(21)];
const grid = { heads, gridHeight, gridWidth };

const last = clsAttention(layers[2], grid, { fusion: 'max' });
console.log(last.height, last.width, argmax(last)); // 8 8 21

const rollout = attentionRollout(layers, grid, { fusion: 'max', discardRatio: 0.9 });
console.log(argmax(rollout), rollout.data[21].toFixed(4)); // 21 0.7060

// Gradient-weighted attention (Chefer et al. 2021) needs each layer's gradient too.
const gradients = layers.map((layer) => layer.map((a) => a));
const relevance = gradientAttention(layers, gradients, grid);
console.log(argmax(relevance)); // 21

// One entry point over the three methods.
const data = { ...grid, layers, gradients };
console.log(['cls', 'rollout', 'gradient'].map((method) => argmax(attentionMap(data, { method, layer: -1 })))); // [ 21, 21, 21 ]

// Every head of one layer, and DINO's view: per head, the fewest patches holding 60% of its mass
// (the focus patch holds about half; 12 more of the evenly spread rest make up 60%).
console.log(headMaps(layers[2], grid).length); // 4
console.log(dinoMasks(layers[2], grid, { keep: 0.6 }).map((mask) => mask.data.reduce((a, b) => a + b))); // [ 13, 13, 13, 13 ]

// Reshape per-patch values; a wrong length is refused with what was expected.
console.log(toGrid(new Float32Array(6), 2, 3).height); // 2
try {
  toGrid(new Float32Array(197), 14, 14);
} catch (error) {
  console.log(error.message); // toGrid: 197 patch values do not fill a 14×14 grid (196 expected; drop the CLS token first)
}
