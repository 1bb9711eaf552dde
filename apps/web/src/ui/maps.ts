import {
  type AttentionData,
  type AttentionMap,
  attentionMap,
  drawAttentionOverlay,
  type RgbaImage,
  type VitAttentionMapElement,
} from '@vitlens/attention-viz';
import type { ViewSettings } from './controls';
import { el } from './dom';

/** The head and token choices as `attentionMap` options. */
function selection(settings: ViewSettings): { fusion: ViewSettings['fusion']; head?: number; query: number } {
  const { fusion, query } = settings;
  return settings.head === null ? { fusion, query } : { fusion, head: settings.head, query };
}

/** The token's name as the captions say it. */
export function tokenName(query: number): string {
  return query === 0 ? 'CLS' : 'distillation';
}

/**
 * Record the map's largest value on `target` (`data-peak`, 6 significant digits; for attention, the
 * largest share of the token's attention one patch gets), so the e2e test can compare maps without reading pixels.
 */
export function markPeak(target: HTMLElement, map: AttentionMap): void {
  let peak = Number.NEGATIVE_INFINITY;
  for (const v of map.data) peak = Math.max(peak, v);
  target.dataset.peak = peak.toPrecision(6);
}

/** The main overlay: the `<vit-attention-map>` element, set to the current settings and drawn. */
export async function drawMainOverlay(
  element: VitAttentionMapElement,
  image: RgbaImage,
  data: AttentionData,
  settings: ViewSettings,
): Promise<void> {
  if (element.image !== image) element.image = image;
  element.attention = data;
  element.method = settings.method;
  element.layer = settings.layer;
  element.headFusion = settings.fusion;
  element.head = settings.head;
  element.colormap = settings.colormap;
  element.opacity = settings.opacity;
  element.query = settings.query;
  await element.render();
  if (element.map) markPeak(element, element.map);
}

/** Rollout and gradient-weighted maps, side by side (the gradient one once its gradients exist). */
export function drawSummaries(
  rollout: HTMLCanvasElement,
  gradient: HTMLCanvasElement,
  image: RgbaImage,
  data: AttentionData,
  settings: ViewSettings,
): void {
  const style = { colormap: settings.colormap, alpha: settings.opacity };
  const rolloutMap = attentionMap(data, { method: 'rollout', ...selection(settings) });
  drawAttentionOverlay(rollout, image, rolloutMap, style);
  markPeak(rollout, rolloutMap);
  if (data.gradients) drawAttentionOverlay(gradient, image, attentionMap(data, { method: 'gradient', query: settings.query }), style);
  else gradient.getContext('2d')?.clearRect(0, 0, gradient.width, gradient.height);
}

/**
 * One thumbnail per layer (the chosen token's attention with the current head choice) in `grid`,
 * the selected layer outlined. Reuses the canvases already there when the layer count is unchanged.
 */
export function drawLayerGrid(
  grid: HTMLElement,
  image: RgbaImage,
  data: AttentionData,
  settings: ViewSettings,
  onSelect: (layer: number) => void,
): void {
  const n = data.layers.length;
  if (grid.children.length !== n) {
    grid.replaceChildren(
      ...Array.from({ length: n }, (_, layer) => {
        const button = el('button', 'layer-map');
        button.type = 'button';
        button.dataset.layer = String(layer);
        button.append(el('canvas'), el('span', undefined, `layer ${layer}`));
        button.addEventListener('click', () => onSelect(layer));
        return button;
      }),
    );
  }
  for (let layer = 0; layer < n; layer++) {
    const button = grid.children[layer] as HTMLElement;
    const canvas = button.querySelector('canvas') as HTMLCanvasElement;
    const map = attentionMap(data, { method: 'cls', layer, ...selection(settings) });
    drawAttentionOverlay(canvas, image, map, { colormap: settings.colormap, alpha: settings.opacity });
    markPeak(button, map);
    button.classList.toggle('selected', settings.method === 'cls' && layer === settings.layer);
  }
}
