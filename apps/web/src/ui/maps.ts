import {
  type AttentionData,
  attentionMap,
  drawAttentionOverlay,
  type RgbaImage,
  type VitAttentionMapElement,
} from '@vitlens/attention-viz';
import type { ViewSettings } from './controls';
import { el } from './dom';

/** The head choice as `attentionMap` options. */
function heads(settings: ViewSettings): { fusion: ViewSettings['fusion']; head?: number } {
  return settings.head === null ? { fusion: settings.fusion } : { fusion: settings.fusion, head: settings.head };
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
  await element.render();
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
  drawAttentionOverlay(rollout, image, attentionMap(data, { method: 'rollout', ...heads(settings) }), style);
  if (data.gradients) drawAttentionOverlay(gradient, image, attentionMap(data, { method: 'gradient' }), style);
  else gradient.getContext('2d')?.clearRect(0, 0, gradient.width, gradient.height);
}

/**
 * One thumbnail per layer (CLS attention with the current head choice) in `grid`, the selected
 * layer outlined. Reuses the canvases already there when the layer count is unchanged.
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
    drawAttentionOverlay(canvas, image, attentionMap(data, { method: 'cls', layer, ...heads(settings) }), {
      colormap: settings.colormap,
      alpha: settings.opacity,
    });
    button.classList.toggle('selected', settings.method === 'cls' && layer === settings.layer);
  }
}
