// Every map of one image as PNG files and a labelled figure (Node; needs the optional peers:
// npm install pngjs @napi-rs/canvas dejavu-fonts-ttf).
import path from 'node:path';
import { writeVisualization } from '@vitlens/attention-viz/node';

const outDir = process.argv[2] ?? 'results/visualizations/toy';

// A 32×32 RGB image (a horizontal gradient) and a toy attention over its 8×8 grid of 4×4 patches:
// 4 heads, 3 layers; CLS looks at patch 21 (row 2, column 5).
const image = { data: new Uint8Array(32 * 32 * 3).map((_, i) => Math.floor((i / 3) % 32) * 8), width: 32, height: 32 };
const heads = 4;
const t = 1 + 8 * 8;
const layers = Array.from({ length: 3 }, () => {
  const layer = new Float32Array(heads * t * t).fill(0.5 / t);
  for (let h = 0; h < heads; h++) {
    for (let q = 0; q < t; q++) layer[(h * t + q) * t + (q === 0 ? 1 + 21 : q)] += 0.5;
  }
  return layer;
});
const gradients = layers.map((layer) => layer.map((a) => a - 0.5 / t)); // d(score)/d(attention), for the gradient map

const { files, maps } = await writeVisualization({
  image,
  attention: { heads, gridHeight: 8, gridWidth: 8, layers, gradients },
  outDir,
  title: 'toy 87.3%',
});
console.log(files.map((f) => path.relative(outDir, f.path)));
// [ 'input.png', 'cls-layer-00.png', 'cls-layer-01.png', 'cls-layer-02.png', 'rollout.png', 'gradient.png', 'figure.png', 'maps.json' ]
console.log(Object.keys(maps)); // [ 'cls-layer-00', 'cls-layer-01', 'cls-layer-02', 'rollout', 'gradient' ]
