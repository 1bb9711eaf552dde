// Plain canvas, no element: compute a map and draw it over the image's pixels.
import { attentionMap, drawAttentionOverlay, loadImagePixels } from '@vitlens/attention-viz';

const heads = 4;
const t = 1 + 8 * 8;
// One layer of toy attention [heads, T, T]: the CLS row (query 0) looks at patch 21 (row 2, column 5).
const layer = Float32Array.from({ length: heads * t * t }, (_, i) => (i % (t * t) === 1 + 21 ? 0.5 : 0.5 / (t - 1)));

const canvas = document.querySelector('canvas#overlay');
if (!(canvas instanceof HTMLCanvasElement)) throw new Error('the page has no <canvas id="overlay">');
const image = await loadImagePixels('horse.jpg'); // RGBA pixels of a 32×32 image
const map = attentionMap({ heads, gridHeight: 8, gridWidth: 8, layers: [layer] }, { method: 'cls', layer: -1, fusion: 'mean' });
drawAttentionOverlay(canvas, image, map, { colormap: 'viridis', alpha: 0.5, scale: 8 });
console.log(`overlay drawn: ${canvas.width}×${canvas.height}`); // overlay drawn: 256×256
