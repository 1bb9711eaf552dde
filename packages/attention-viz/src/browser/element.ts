import { type ColormapName, checkColormap } from '../colormaps/index';
import { attentionMap } from '../maps/dispatch';
import { attentionDataFromJson } from '../serialize';
import type { AttentionData, AttentionMap, HeadFusion, MapMethod, PixelImage } from '../types';
import { HEAD_FUSIONS, MAP_METHODS } from '../types';
import { drawAttentionOverlay, loadImagePixels, pixelsFromImageSource } from './draw';

/** What `image` accepts: pixels, a URL, or anything a canvas can draw. */
export type AttentionMapImage = PixelImage | string | HTMLImageElement | ImageBitmap | HTMLCanvasElement;

/** The public surface of `<vit-attention-map>`. */
export interface VitAttentionMapElement extends HTMLElement {
  /** The image: pixels, an URL (attribute `image`), or an `<img>`/bitmap/canvas. */
  image: AttentionMapImage | null;
  /** One image's attention (attribute `attention`: the JSON of `attentionDataToJson`). */
  attention: AttentionData | null;
  /** 'cls' | 'rollout' | 'gradient' (attribute `method`, default 'cls'). */
  method: MapMethod;
  /** Layer for 'cls', negative from the end (attribute `layer`, default −1). */
  layer: number;
  /** 'mean' | 'max' | 'min' (attribute `head-fusion`, default 'mean'). */
  headFusion: HeadFusion;
  /** One head alone, or null to fuse (attribute `head`). */
  head: number | null;
  /** Colormap name (attribute `colormap`, default 'viridis'). */
  colormap: ColormapName;
  /** Heatmap weight over the image, 0..1 (attribute `opacity`, default 0.5). */
  opacity: number;
  /** Rollout discard ratio (attribute `discard-ratio`, default 0). */
  discardRatio: number;
  /**
   * The token whose attention row every map reads (attribute `query`): 0 = CLS (default), 1 = DeiT's
   * distillation token; must be below the attention's `prefixTokens`.
   */
  query: number;
  /** The canvas it draws on (in its shadow root). */
  readonly canvas: HTMLCanvasElement;
  /** The last map drawn (patch grid, before upsampling), or null. */
  readonly map: AttentionMap | null;
  /** Redraw now; resolves once drawn (or rejects with the reason, also sent as an `error` event). */
  render(): Promise<void>;
}

const ATTRIBUTES = ['image', 'attention', 'method', 'layer', 'head-fusion', 'head', 'colormap', 'opacity', 'discard-ratio', 'query'] as const;

function parseNumber(tag: string, attr: string, value: string, check: (n: number) => boolean, expected: string): number {
  const n = Number(value);
  if (value.trim() === '' || !check(n)) throw new Error(`<${tag}>: attribute ${attr}="${value}" is invalid; expected ${expected}`);
  return n;
}

function createElementClass(tag: string): CustomElementConstructor {
  return class VitAttentionMap extends HTMLElement {
    static get observedAttributes(): readonly string[] {
      return ATTRIBUTES;
    }

    #canvas: HTMLCanvasElement;
    #image: AttentionMapImage | null = null;
    #pixels: PixelImage | null = null;
    #attention: AttentionData | null = null;
    #method: MapMethod = 'cls';
    #layer = -1;
    #headFusion: HeadFusion = 'mean';
    #head: number | null = null;
    #colormap: ColormapName = 'viridis';
    #opacity = 0.5;
    #discardRatio = 0;
    #query = 0;
    #map: AttentionMap | null = null;
    #pending: Promise<void> | null = null;

    constructor() {
      super();
      const root = this.attachShadow({ mode: 'open' });
      const style = document.createElement('style');
      style.textContent =
        ':host{display:inline-block;width:256px}canvas{display:block;width:100%;height:auto;image-rendering:pixelated}';
      this.#canvas = document.createElement('canvas');
      this.#canvas.setAttribute('part', 'canvas');
      root.append(style, this.#canvas);
    }

    get canvas(): HTMLCanvasElement {
      return this.#canvas;
    }
    get map(): AttentionMap | null {
      return this.#map;
    }

    get image(): AttentionMapImage | null {
      return this.#image;
    }
    set image(value: AttentionMapImage | null) {
      this.#image = value;
      this.#pixels = null;
      this.#schedule();
    }
    get attention(): AttentionData | null {
      return this.#attention;
    }
    set attention(value: AttentionData | null) {
      this.#attention = value;
      this.#schedule();
    }
    get method(): MapMethod {
      return this.#method;
    }
    set method(value: MapMethod) {
      if (!MAP_METHODS.includes(value)) throw new Error(`<${tag}>: method must be one of ${MAP_METHODS.join(', ')}, got '${value}'`);
      this.#method = value;
      this.#schedule();
    }
    get layer(): number {
      return this.#layer;
    }
    set layer(value: number) {
      if (!Number.isInteger(value)) throw new Error(`<${tag}>: layer must be an integer, got ${value}`);
      this.#layer = value;
      this.#schedule();
    }
    get headFusion(): HeadFusion {
      return this.#headFusion;
    }
    set headFusion(value: HeadFusion) {
      if (!HEAD_FUSIONS.includes(value)) throw new Error(`<${tag}>: head-fusion must be one of ${HEAD_FUSIONS.join(', ')}, got '${value}'`);
      this.#headFusion = value;
      this.#schedule();
    }
    get head(): number | null {
      return this.#head;
    }
    set head(value: number | null) {
      if (value !== null && (!Number.isInteger(value) || value < 0)) throw new Error(`<${tag}>: head must be an integer ≥ 0 or null, got ${value}`);
      this.#head = value;
      this.#schedule();
    }
    get colormap(): ColormapName {
      return this.#colormap;
    }
    set colormap(value: ColormapName) {
      this.#colormap = checkColormap(value, `<${tag}> colormap`);
      this.#schedule();
    }
    get opacity(): number {
      return this.#opacity;
    }
    set opacity(value: number) {
      if (!(value >= 0 && value <= 1)) throw new Error(`<${tag}>: opacity must be in [0, 1], got ${value}`);
      this.#opacity = value;
      this.#schedule();
    }
    get discardRatio(): number {
      return this.#discardRatio;
    }
    set discardRatio(value: number) {
      if (!(value >= 0 && value < 1)) throw new Error(`<${tag}>: discard-ratio must be in [0, 1), got ${value}`);
      this.#discardRatio = value;
      this.#schedule();
    }

    get query(): number {
      return this.#query;
    }
    set query(value: number) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`<${tag}>: query must be an integer ≥ 0 (0 = CLS, 1 = distillation token), got ${value}`);
      this.#query = value;
      this.#schedule();
    }

    attributeChangedCallback(name: string, _old: string | null, value: string | null): void {
      try {
        this.#applyAttribute(name, value);
      } catch (error) {
        this.#fail(error);
      }
    }

    connectedCallback(): void {
      this.#schedule();
    }

    #applyAttribute(name: string, value: string | null): void {
      switch (name) {
        case 'image':
          this.image = value;
          break;
        case 'attention':
          this.attention = value === null ? null : attentionDataFromJson(value, `<${tag}> attribute attention`);
          break;
        case 'method':
          this.method = (value ?? 'cls') as MapMethod;
          break;
        case 'layer':
          this.layer = value === null ? -1 : parseNumber(tag, name, value, Number.isInteger, 'an integer (negative counts from the end)');
          break;
        case 'head-fusion':
          this.headFusion = (value ?? 'mean') as HeadFusion;
          break;
        case 'head':
          this.head = value === null ? null : parseNumber(tag, name, value, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
          break;
        case 'colormap':
          this.colormap = (value ?? 'viridis') as ColormapName;
          break;
        case 'opacity':
          this.opacity = value === null ? 0.5 : parseNumber(tag, name, value, (n) => n >= 0 && n <= 1, 'a number in [0, 1]');
          break;
        case 'discard-ratio':
          this.discardRatio = value === null ? 0 : parseNumber(tag, name, value, (n) => n >= 0 && n < 1, 'a number in [0, 1)');
          break;
        case 'query':
          this.query = value === null ? 0 : parseNumber(tag, name, value, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0 (0 = CLS, 1 = distillation token)');
          break;
      }
    }

    #schedule(): void {
      if (this.#pending || !this.isConnected) return;
      this.#pending = Promise.resolve().then(() => {
        this.#pending = null;
        return this.render().catch(() => undefined); // reported through the 'error' event
      });
    }

    #fail(error: unknown): void {
      this.dispatchEvent(new CustomEvent('error', { detail: { error } }));
    }

    async #resolvePixels(): Promise<PixelImage | null> {
      const image = this.#image;
      if (image === null) return null;
      if (this.#pixels) return this.#pixels;
      let pixels: PixelImage;
      if (typeof image === 'string') pixels = await loadImagePixels(image);
      else if ('data' in image) pixels = image;
      else {
        const width = 'naturalWidth' in image ? image.naturalWidth : image.width;
        const height = 'naturalHeight' in image ? image.naturalHeight : image.height;
        pixels = pixelsFromImageSource(image, width, height);
      }
      if (this.#image === image) this.#pixels = pixels;
      return pixels;
    }

    async render(): Promise<void> {
      try {
        const pixels = await this.#resolvePixels();
        const attention = this.#attention;
        if (!pixels || !attention) return;
        const map = attentionMap(attention, {
          method: this.#method,
          layer: this.#layer,
          fusion: this.#headFusion,
          ...(this.#head !== null ? { head: this.#head } : {}),
          discardRatio: this.#discardRatio,
          ...(this.#query !== 0 ? { query: this.#query } : {}),
        });
        drawAttentionOverlay(this.#canvas, pixels, map, { colormap: this.#colormap, alpha: this.#opacity });
        this.#map = map;
        this.dispatchEvent(new CustomEvent('render', { detail: { map } }));
      } catch (error) {
        this.#fail(error);
        throw error;
      }
    }
  };
}

/**
 * Register `<vit-attention-map>` (or `tagName`) with `customElements` and return its class. Safe to
 * call more than once; importing the package registers nothing by itself.
 */
export function defineAttentionMapElement(tagName = 'vit-attention-map'): CustomElementConstructor {
  if (typeof customElements === 'undefined' || typeof HTMLElement === 'undefined') {
    throw new Error('defineAttentionMapElement: needs a browser (customElements and HTMLElement are not defined here)');
  }
  const existing = customElements.get(tagName);
  if (existing) return existing;
  const ctor = createElementClass(tagName);
  customElements.define(tagName, ctor);
  return ctor;
}
