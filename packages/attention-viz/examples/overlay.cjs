// Colour and overlays (CommonJS): normalise a map, upsample it, colour it and blend it over the
// original pixels; and the plain-JSON form of attention data for pages.
const {
  COLORMAP_NAMES,
  attentionDataFromJson,
  attentionDataToJson,
  colormapColor,
  heatmapImage,
  normalizeMap,
  overlayHeatmap,
  upsampleBilinear,
} = require('@vitlens/attention-viz');

console.log(COLORMAP_NAMES); // [ 'viridis', 'inferno', 'magma', 'plasma', 'turbo', 'jet', 'gray' ]
console.log(colormapColor('viridis', 0).map((c) => c.toFixed(6))); // [ '0.267004', '0.004874', '0.329415' ] (matplotlib's table)

const map = { data: new Float32Array([2, 4, 6, 10]), height: 2, width: 2 };
console.log(normalizeMap(map).data); // Float32Array(4) [ 0, 0.25, 0.5, 1 ]
console.log(Array.from(upsampleBilinear({ data: new Float32Array([0, 1, 2, 3]), height: 2, width: 2 }, 4, 4).data.slice(0, 4)));
// [ 0, 0.25, 0.75, 1 ]  (half-pixel centres, as PIL, OpenCV and torch)

// Blend over the original 8-bit pixels: out = (1 − alpha)·image + alpha·colour, at the image's size.
const rgb = new Uint8Array([200, 100, 50, 10, 20, 30]); // 2×1 RGB
const overlay = overlayHeatmap({ data: rgb, width: 2, height: 1 }, { data: new Float32Array([0, 1]), height: 1, width: 2 }, { colormap: 'gray', alpha: 0.25 });
console.log(overlay); // { data: Uint8ClampedArray(8) [ 150, 75, 38, 255, 71, 79, 86, 255 ], width: 2, height: 1 }

// The map alone as an opaque RGBA image, at any size.
const heat = heatmapImage(map, 32, 32, { colormap: 'inferno' });
console.log(heat.width, heat.height, heat.data.length); // 32 32 4096

// Attention data as plain JSON (for a page, or the element's `attention` attribute), checked on the way back.
const json = attentionDataToJson({ heads: 1, gridHeight: 1, gridWidth: 2, layers: [new Float32Array(9).fill(1 / 3)] });
console.log(attentionDataFromJson(JSON.stringify(json)).layers[0].length); // 9
try {
  attentionDataFromJson({ ...json, heads: 0 }, 'attention.json');
} catch (error) {
  console.log(error.message); // attention.json: heads must be a positive integer, got 0
}
