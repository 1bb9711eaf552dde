// The <vit-attention-map> element: set its attention (and an image, here the `image` attribute) and
// it draws the map over the image, again whenever an attribute or property changes.
import { type AttentionData, defineAttentionMapElement, type VitAttentionMapElement } from '@vitlens/attention-viz';

defineAttentionMapElement(); // registers <vit-attention-map>; importing alone registers nothing

/** Toy attention over an 8×8 grid: every token keeps half its attention on itself, CLS looks at `focus`. */
function toyAttention(heads: number, gridHeight: number, gridWidth: number, depth: number, focus: number): AttentionData {
  const t = 1 + gridHeight * gridWidth;
  const layer = Float32Array.from({ length: heads * t * t }, (_, i) => {
    const query = Math.floor(i / t) % t; // [heads, T, T]: i = (head·T + query)·T + key
    const key = i % t;
    return 0.5 / t + (key === (query === 0 ? 1 + focus : query) ? 0.5 : 0);
  });
  return { heads, gridHeight, gridWidth, layers: Array.from({ length: depth }, () => layer) };
}

const el = document.querySelector<VitAttentionMapElement>('vit-attention-map#map');
if (!el) throw new Error('the page has no <vit-attention-map id="map">');
el.addEventListener('render', (e) => {
  if (e instanceof CustomEvent) console.log('drawn', e.detail.map); // the map at patch-grid resolution
});
el.addEventListener('error', (e) => {
  if (e instanceof CustomEvent) console.error(e.detail.error); // e.g. unknown colormap 'rainbow'; valid: viridis, …
});
el.attention = toyAttention(4, 8, 8, 3, 2 * 8 + 5); // layers: one Float32Array[heads·65·65] per layer
