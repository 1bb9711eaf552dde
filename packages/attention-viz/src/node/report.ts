import path from 'node:path';
import { type ColormapName, checkColormap } from '../colormaps/index';
import { attentionMap } from '../maps/dispatch';
import { dinoMasks, headMaps } from '../maps/heads';
import type { NormalizeOptions } from '../maps/normalize';
import { enlargeNearest, imageChannels, overlayHeatmap } from '../overlay';
import type { AttentionData, AttentionMap, HeadFusion, MapMethod, PixelImage } from '../types';
import { MAP_METHODS } from '../types';
import { writeJsonAtomic } from './atomic';
import { type FigureTile, loadCanvas, renderFigure } from './figure';
import { requirePeer } from './optional';
import { writePng } from './png';

export interface VisualizationOptions {
  /** The original image (8-bit pixels as loaded, any size). */
  image: PixelImage;
  /** Its attention (and gradients for 'gradient'), one `[heads, T, T]` per layer. */
  attention: AttentionData;
  /** Folder for this image's files (created). */
  outDir: string;
  /** Maps to draw (default: cls, rollout, and gradient when gradients are given). */
  methods?: readonly MapMethod[];
  /** Layers for the CLS maps (default all). */
  layers?: readonly number[];
  fusion?: HeadFusion;
  head?: number;
  discardRatio?: number;
  colormap?: ColormapName;
  /** Heatmap weight over the image (default 0.5). */
  alpha?: number;
  normalize?: NormalizeOptions;
  /** The figure's title, e.g. 'cat 87.3%'. */
  title?: string;
  /** The figure's second line (default: the settings used). */
  subtitle?: string;
  /** Integer enlargement of the image (nearest) before the map is upsampled over it (default: to ≥ 160 px). */
  scale?: number;
  /**
   * The tokens whose rows the maps read (default `[{ index: 0, name: 'cls' }]`). DeiT: add
   * `{ index: 1, name: 'distillation' }` for `distillation-layer-NN.png`, `rollout-distillation.png`, ….
   */
  queries?: readonly QueryToken[];
  /** Also write `heads.png`: every head of every layer's CLS attention, one row per layer (`--heads all`). */
  headGrid?: boolean;
  /** Also write DINO's view (`dino-head-HH.png`): the last layer's heads thresholded to keep this share of the mass (0.6 in the paper). */
  dinoKeep?: number;
}

/** A special token whose attention row the maps read. */
export interface QueryToken {
  /** Its position: 0 = CLS, 1 = DeiT's distillation token. */
  index: number;
  /** Its name in file names and labels ('cls', 'distillation'). */
  name: string;
}

export interface VisualizationFile {
  kind: 'input' | MapMethod | 'figure' | 'maps' | 'heads' | 'dino';
  layer?: number;
  head?: number;
  path: string;
}

export interface VisualizationResult {
  files: VisualizationFile[];
  /** The maps drawn, at patch-grid resolution, keyed like the file names ('cls-layer-03', 'rollout', 'gradient'). */
  maps: Record<string, AttentionMap>;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * Write one image's attention visualisation into `outDir`: `input.png`, `cls-layer-NN.png` per
 * layer, `rollout.png`, `gradient.png`, `figure.png` (all of them in a labelled grid) and
 * `maps.json` (the patch-grid maps). Every file is written atomically.
 */
export async function writeVisualization(options: VisualizationOptions): Promise<VisualizationResult> {
  const { attention, image, outDir } = options;
  imageChannels(image, 'writeVisualization image');
  // The optional peers first: a missing one fails before any file is written.
  requirePeer('pngjs', 'writeVisualization');
  await loadCanvas('writeVisualization');
  const colormap = checkColormap(options.colormap ?? 'viridis', 'writeVisualization');
  const methods = options.methods ?? (attention.gradients ? MAP_METHODS : MAP_METHODS.filter((m) => m !== 'gradient'));
  for (const m of methods) {
    if (!MAP_METHODS.includes(m)) throw new Error(`writeVisualization: unknown method '${m}'; valid: ${MAP_METHODS.join(', ')}`);
  }
  const n = attention.layers.length;
  const layers = options.layers ?? Array.from({ length: n }, (_, i) => i);
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= n) throw new Error(`writeVisualization: layer ${l} does not exist; the model has layers 0..${n - 1}`);
  }
  const scale = options.scale ?? Math.max(1, Math.ceil(160 / Math.max(image.width, image.height)));
  const shown = enlargeNearest(image, scale);
  const common = {
    ...(options.fusion !== undefined ? { fusion: options.fusion } : {}),
    ...(options.head !== undefined ? { head: options.head } : {}),
  };
  const overlayOpts = { colormap, alpha: options.alpha ?? 0.5, ...(options.normalize ? { normalize: options.normalize } : {}) };

  const files: VisualizationFile[] = [];
  const maps: Record<string, AttentionMap> = {};
  const tiles: FigureTile[] = [{ label: 'input', image: shown }];
  const inputPath = path.join(outDir, 'input.png');
  await writePng(inputPath, shown);
  files.push({ kind: 'input', path: inputPath });

  const emit = async (key: string, label: string, kind: VisualizationFile['kind'], map: AttentionMap, at: { layer?: number; head?: number } = {}) => {
    const overlay = overlayHeatmap(shown, map, overlayOpts);
    const file = path.join(outDir, `${key}.png`);
    await writePng(file, overlay);
    files.push({ kind, ...at, path: file });
    maps[key] = map;
    tiles.push({ label, image: overlay });
  };
  const queries = options.queries ?? [{ index: 0, name: 'cls' }];
  for (const q of queries) {
    const query = q.index === 0 ? {} : { query: q.index };
    // the CLS token keeps the historical names (cls-layer-03, rollout, gradient); others are named
    const named = (key: string) => (q.index === 0 ? key : `${key}-${q.name}`);
    const tokenLabel = q.index === 0 ? '' : `${q.name}: `;
    if (methods.includes('cls')) {
      for (const layer of layers) {
        const key = q.index === 0 ? `cls-layer-${pad2(layer)}` : `${q.name}-layer-${pad2(layer)}`;
        await emit(key, `${tokenLabel}layer ${layer}`, 'cls', attentionMap(attention, { method: 'cls', layer, ...common, ...query }), { layer });
      }
    }
    if (methods.includes('rollout')) {
      const discardRatio = options.discardRatio ?? 0;
      const map = attentionMap(attention, { method: 'rollout', discardRatio, ...common, ...query });
      await emit(named('rollout'), `${tokenLabel}${discardRatio > 0 ? `rollout (discard ${discardRatio})` : 'rollout'}`, 'rollout', map);
    }
    if (methods.includes('gradient')) {
      await emit(named('gradient'), `${tokenLabel}gradient × attention`, 'gradient', attentionMap(attention, { method: 'gradient', ...query }));
    }
  }
  const grid = { heads: attention.heads, gridHeight: attention.gridHeight, gridWidth: attention.gridWidth, prefixTokens: attention.prefixTokens ?? 1 };
  if (options.dinoKeep !== undefined) {
    const last = n - 1;
    const masks = dinoMasks(attention.layers[last] as Float32Array, grid, { keep: options.dinoKeep });
    const share = `${Math.round(options.dinoKeep * 100)}%`;
    for (const [head, mask] of masks.entries()) {
      await emit(`dino-head-${pad2(head)}`, `DINO head ${head} (${share})`, 'dino', mask, { layer: last, head });
    }
  }
  if (options.headGrid) {
    const headTiles: FigureTile[] = [];
    for (let layer = 0; layer < n; layer++) {
      for (const [head, map] of headMaps(attention.layers[layer] as Float32Array, grid).entries()) {
        maps[`heads-layer-${pad2(layer)}-head-${pad2(head)}`] = map;
        headTiles.push({ label: `layer ${layer} head ${head}`, image: overlayHeatmap(shown, map, overlayOpts) });
      }
    }
    const headsFigure = await renderFigure(headTiles, {
      title: options.title ?? 'attention heads',
      subtitle: `CLS attention of every head, one row per layer; colormap ${colormap}`,
      columns: attention.heads,
    });
    const headsPath = path.join(outDir, 'heads.png');
    await writePng(headsPath, headsFigure);
    files.push({ kind: 'heads', path: headsPath });
  }

  const fusionText = options.head !== undefined ? `head ${options.head}` : `heads fused by ${options.fusion ?? 'mean'}`;
  const figure = await renderFigure(tiles, {
    title: options.title ?? 'attention maps',
    subtitle: options.subtitle ?? `${fusionText}; colormap ${colormap}; alpha ${overlayOpts.alpha}`,
  });
  const figurePath = path.join(outDir, 'figure.png');
  await writePng(figurePath, figure);
  files.push({ kind: 'figure', path: figurePath });

  const mapsPath = path.join(outDir, 'maps.json');
  await writeJsonAtomic(
    mapsPath,
    Object.fromEntries(Object.entries(maps).map(([k, m]) => [k, { height: m.height, width: m.width, data: Array.from(m.data) }])),
  );
  files.push({ kind: 'maps', path: mapsPath });
  return { files, maps };
}
