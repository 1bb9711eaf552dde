import { toRgba } from '../overlay';
import type { PixelImage, RgbaImage } from '../types';
import { importPeer, resolvePeerFile } from './optional';

/** One labelled image of a figure. */
export interface FigureTile {
  label: string;
  image: PixelImage;
}

export interface FigureOptions {
  /** First line above the grid (e.g. the prediction). */
  title: string;
  /** Optional second line (e.g. the settings). */
  subtitle?: string;
  /** Tiles per row (default: up to 6). */
  columns?: number;
}

const FONT_FAMILY = 'vitlens DejaVu Sans';
const PAD = 12;
const LABEL_HEIGHT = 20;
let fontReady = false;

type CanvasModule = typeof import('@napi-rs/canvas');

/**
 * Text is drawn by @napi-rs/canvas (Skia, prebuilt binaries from the npm registry, no system
 * libraries) with DejaVu Sans from the `dejavu-fonts-ttf` package, so a bare machine with no fonts
 * installed renders the same figure. Both are optional peer dependencies, loaded here on first use.
 */
export async function loadCanvas(caller = 'renderFigure'): Promise<CanvasModule> {
  const mod = await importPeer<CanvasModule>('@napi-rs/canvas', caller);
  if (!fontReady) {
    const fontPath = resolvePeerFile('dejavu-fonts-ttf', 'ttf/DejaVuSans.ttf', caller);
    if (!mod.GlobalFonts.registerFromPath(fontPath, FONT_FAMILY)) throw new Error(`renderFigure: could not load the font ${fontPath}`);
    fontReady = true;
  }
  return mod;
}

/**
 * Lay tiles out in a labelled grid under a title: white background, each tile at its own size in a
 * cell as large as the largest tile, its label centred below it. Returns RGBA pixels.
 */
export async function renderFigure(tiles: readonly FigureTile[], options: FigureOptions): Promise<RgbaImage> {
  if (tiles.length === 0) throw new Error('renderFigure: no tiles to draw');
  const { createCanvas } = await loadCanvas();
  const images = tiles.map((t, i) => {
    try {
      return toRgba(t.image);
    } catch (error) {
      throw new Error(`renderFigure: tile ${i} ('${t.label}'): ${(error as Error).message}`);
    }
  });
  const columns = options.columns ?? Math.min(6, tiles.length);
  if (!Number.isInteger(columns) || columns <= 0) throw new Error(`renderFigure: columns must be a positive integer, got ${columns}`);
  const rows = Math.ceil(tiles.length / columns);
  const cellW = Math.max(...images.map((im) => im.width));
  const cellH = Math.max(...images.map((im) => im.height));
  const titleH = options.subtitle ? 52 : 32;
  const width = PAD + columns * (cellW + PAD);
  const height = titleH + PAD + rows * (cellH + LABEL_HEIGHT + PAD);

  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#111111';
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  ctx.font = `bold 18px "${FONT_FAMILY}"`;
  ctx.fillText(options.title, PAD, 8, width - 2 * PAD);
  if (options.subtitle) {
    ctx.font = `13px "${FONT_FAMILY}"`;
    ctx.fillStyle = '#444444';
    ctx.fillText(options.subtitle, PAD, 32, width - 2 * PAD);
  }
  ctx.font = `13px "${FONT_FAMILY}"`;
  ctx.textAlign = 'center';
  ctx.fillStyle = '#111111';
  images.forEach((im, i) => {
    const x = PAD + (i % columns) * (cellW + PAD);
    const y = titleH + PAD + Math.floor(i / columns) * (cellH + LABEL_HEIGHT + PAD);
    const data = ctx.createImageData(im.width, im.height);
    data.data.set(im.data);
    ctx.putImageData(data, x + Math.floor((cellW - im.width) / 2), y + Math.floor((cellH - im.height) / 2));
    ctx.fillText((tiles[i] as FigureTile).label, x + cellW / 2, y + cellH + 4, cellW);
  });
  const pixels = ctx.getImageData(0, 0, width, height);
  return { data: new Uint8ClampedArray(pixels.data), width, height };
}
