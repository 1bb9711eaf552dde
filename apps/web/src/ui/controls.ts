import { COLORMAP_NAMES, type ColormapName, DINO_KEEP, HEAD_FUSIONS, type HeadFusion, type MapMethod } from '@vitlens/attention-viz';
import { byId } from './dom';

/** What the attention controls select. */
export interface ViewSettings {
  method: MapMethod;
  /** Layer for the CLS method, 0-based. */
  layer: number;
  fusion: HeadFusion;
  /** One head alone, or null to fuse them. */
  head: number | null;
  colormap: ColormapName;
  opacity: number;
  /** The token whose attention row every map reads: 0 = CLS, 1 = DeiT's distillation token. */
  query: number;
  /** DINO's view: the share of each last-layer head's attention mass kept, in (0, 1]. */
  dinoKeep: number;
}

const FUSION_LABELS: Record<HeadFusion, string> = { mean: 'mean of heads', max: 'max over heads', min: 'min over heads' };

/** The form controls for method, layer, heads, token, colormap and opacity, and DINO's share. */
export class Controls {
  readonly method = byId<HTMLSelectElement>('method', HTMLSelectElement);
  readonly layer = byId<HTMLSelectElement>('layer', HTMLSelectElement);
  readonly heads = byId<HTMLSelectElement>('heads', HTMLSelectElement);
  readonly token = byId<HTMLSelectElement>('token', HTMLSelectElement);
  readonly tokenLabel = byId('token-label');
  readonly colormap = byId<HTMLSelectElement>('colormap', HTMLSelectElement);
  readonly opacity = byId<HTMLInputElement>('opacity', HTMLInputElement);
  readonly opacityValue = byId<HTMLOutputElement>('opacity-value', HTMLOutputElement);
  readonly dinoKeep = byId<HTMLInputElement>('dino-keep', HTMLInputElement);
  readonly dinoKeepValue = byId<HTMLOutputElement>('dino-keep-value', HTMLOutputElement);

  constructor(onChange: () => void) {
    this.colormap.replaceChildren(...COLORMAP_NAMES.map((name) => new Option(name, name)));
    this.colormap.value = 'jet';
    for (const control of [this.method, this.layer, this.heads, this.token, this.colormap]) control.addEventListener('change', onChange);
    this.opacity.addEventListener('input', () => {
      this.opacityValue.value = Number(this.opacity.value).toFixed(2);
      onChange();
    });
    this.dinoKeep.value = String(DINO_KEEP);
    this.showDinoKeep();
    this.dinoKeep.addEventListener('input', () => {
      this.showDinoKeep();
      onChange();
    });
    this.method.addEventListener('change', () => this.syncEnabled());
    this.syncEnabled();
  }

  /**
   * Fill the layer and head choices for a model with `layers` layers of `heads` heads (last layer
   * selected). Both are numbered from 0, as in the checkpoint (`vit.encoder.layer.0`), the Node
   * figures and `vitlens visualize --layers/--head`. The token choice shows only for a model with a
   * distillation token (`prefixTokens` 2, DeiT) and starts on CLS.
   */
  configure(layers: number, heads: number, prefixTokens: number): void {
    this.layer.replaceChildren(...Array.from({ length: layers }, (_, i) => new Option(`layer ${i}${i === layers - 1 ? ' (last)' : ''}`, String(i))));
    this.layer.value = String(layers - 1);
    this.heads.replaceChildren(
      ...HEAD_FUSIONS.map((f) => new Option(FUSION_LABELS[f], `fuse:${f}`)),
      ...Array.from({ length: heads }, (_, i) => new Option(`head ${i} alone`, `head:${i}`)),
    );
    this.heads.value = 'fuse:mean';
    this.token.value = '0';
    this.tokenLabel.hidden = prefixTokens < 2;
  }

  private showDinoKeep(): void {
    this.dinoKeepValue.value = `${Math.round(Number(this.dinoKeep.value) * 100)}%`;
  }

  selectLayer(layer: number): void {
    this.layer.value = String(layer);
    this.method.value = 'cls';
    this.syncEnabled();
  }

  /** The layer control applies to 'cls' only; the gradient map weighs all heads itself. */
  private syncEnabled(): void {
    this.layer.disabled = this.method.value !== 'cls';
    this.heads.disabled = this.method.value === 'gradient';
  }

  read(): ViewSettings {
    const [kind, value] = this.heads.value.split(':');
    return {
      method: this.method.value as MapMethod,
      layer: Number(this.layer.value),
      fusion: (kind === 'fuse' ? value : 'mean') as HeadFusion,
      head: kind === 'head' ? Number(value) : null,
      colormap: this.colormap.value as ColormapName,
      opacity: Number(this.opacity.value),
      query: Number(this.token.value),
      dinoKeep: Number(this.dinoKeep.value),
    };
  }
}
