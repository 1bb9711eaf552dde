import { type AttentionData, type AttentionMap, dinoMasks, drawAttentionOverlay, headMaps, type RgbaImage } from '@vitlens/attention-viz';
import type { ViewSettings } from './controls';
import { el } from './dom';
import { markPeak, tokenName } from './maps';

/**
 * Draw one map per head in `grid`, one `<figure data-head>` each, over the image. Reuses the
 * figures when the head count is unchanged. Returns the figures, head order.
 */
function drawPerHead(grid: HTMLElement, image: RgbaImage, maps: readonly AttentionMap[], settings: ViewSettings): HTMLElement[] {
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
  const figures = Array.from(grid.children) as HTMLElement[];
  maps.forEach((map, head) => {
    const canvas = (figures[head] as HTMLElement).querySelector('canvas') as HTMLCanvasElement;
    drawAttentionOverlay(canvas, image, map, { colormap: settings.colormap, alpha: settings.opacity });
  });
  return figures;
}

/** ", distillation token" when the maps read DeiT's distillation token; nothing for CLS. */
function tokenNote(settings: ViewSettings): string {
  return settings.query === 0 ? '' : `, ${tokenName(settings.query)} token`;
}

/**
 * One layer's heads side by side: each head's attention alone (from the chosen token), for the
 * layer the controls select.
 */
export function drawHeadGrid(grid: HTMLElement, caption: HTMLElement, image: RgbaImage, data: AttentionData, settings: ViewSettings): void {
  const layer = settings.layer;
  const maps = headMaps(data.layers[layer] as Float32Array, data, { query: settings.query });
  drawPerHead(grid, image, maps, settings).forEach((figure, head) => {
    markPeak(figure, maps[head] as AttentionMap);
  });
  caption.textContent = `layer ${layer}: each of its ${maps.length} heads alone${tokenNote(settings)} (choose the layer above)`;
}

/**
 * DINO's view (Caron et al. 2021, Fig. 3): the last layer's heads, each reduced to the fewest
 * patches holding `settings.dinoKeep` of its attention mass (`dinoMasks`, as `vitlens visualize
 * --dino-keep`). Each figure carries `data-kept`, the number of patches kept.
 */
export function drawDinoGrid(grid: HTMLElement, caption: HTMLElement, image: RgbaImage, data: AttentionData, settings: ViewSettings): void {
  const last = data.layers.length - 1;
  const masks = dinoMasks(data.layers[last] as Float32Array, data, { keep: settings.dinoKeep, query: settings.query });
  drawPerHead(grid, image, masks, settings).forEach((figure, head) => {
    let kept = 0;
    for (const v of (masks[head] as AttentionMap).data) kept += v;
    figure.dataset.kept = String(kept);
  });
  const share = `${Math.round(settings.dinoKeep * 100)}%`;
  caption.textContent = `layer ${last} (last): each head's fewest patches holding ${share} of its attention${tokenNote(settings)}`;
}
