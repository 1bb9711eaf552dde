import { type AttentionData, drawAttentionOverlay, headMaps, type RgbaImage } from '@vitlens/attention-viz';
import type { ViewSettings } from './controls';
import { el } from './dom';

/**
 * One layer's heads side by side: each head's CLS attention alone, for the layer the controls
 * select (what DINO's figures show for the last layer). Reuses the canvases when the head count is unchanged.
 */
export function drawHeadGrid(grid: HTMLElement, caption: HTMLElement, image: RgbaImage, data: AttentionData, settings: ViewSettings): void {
  const layer = settings.layer;
  const maps = headMaps(data.layers[layer] as Float32Array, data);
  if (grid.children.length !== maps.length) {
    grid.replaceChildren(
      ...maps.map((_, head) => {
        const figure = el('figure', 'head-map');
        figure.dataset.head = String(head);
        figure.append(el('canvas'), el('figcaption', undefined, `head ${head}`));
        return figure;
      }),
    );
  }
  maps.forEach((map, head) => {
    const canvas = (grid.children[head] as HTMLElement).querySelector('canvas') as HTMLCanvasElement;
    drawAttentionOverlay(canvas, image, map, { colormap: settings.colormap, alpha: settings.opacity });
  });
  caption.textContent = `layer ${layer}: each of its ${maps.length} heads alone (choose the layer above)`;
}
