import { defineAttentionMapElement, type RgbaImage, type VitAttentionMapElement } from '@vitlens/attention-viz';
import { tf } from '@vitlens/core';
import { type ViTPipeline, load } from '@vitlens/vit-model';
import { type Analysis, analyzeImage, attentionGradientsFor } from './analyze';
import type { ApiError, DatasetInfo, SampleHeaders } from './api';
import { requestedBackend, startBackend } from './backend';
import { formatBytes, type LoadedModel, loadCheckpointFiles, loadServerCheckpoint, looksLikeCheckpoint, NoServerCheckpointError } from './checkpoint';
import { type PageImage, displayPixels, readImageBlob } from './image';
import { Controls } from './ui/controls';
import { byId } from './ui/dom';
import { filesFromDrop, imageFromPaste } from './ui/input';
import { drawDinoGrid, drawHeadGrid } from './ui/heads';
import { drawLayerGrid, drawMainOverlay, drawSummaries, tokenName } from './ui/maps';
import { renderTop5 } from './ui/top5';

/** Side (pixels) of the image under the main overlay and under the thumbnails. */
const MAIN_SIDE = 384;
const THUMB_SIDE = 160;

type PageState = 'starting' | 'no-model' | 'model-ready' | 'running' | 'ready' | 'error';

interface ShownImage {
  decoded: PageImage;
  main: RgbaImage;
  thumb: RgbaImage;
  /** The true label, for dataset samples. */
  truth?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The page: wires inputs, the model and the drawings together. */
export class App {
  private readonly overlay: VitAttentionMapElement;
  private readonly controls: Controls;
  private loaded: LoadedModel | undefined;
  /** The inference calls over the loaded model (`@vitlens/vit-model`'s `load`). */
  private vit: ViTPipeline | undefined;
  private image: ShownImage | undefined;
  private analysis: Analysis | undefined;
  private gradientClass = 0;
  /** Increments per image or model change; results of older runs are dropped. */
  private run = 0;
  private renders = 0;

  constructor() {
    defineAttentionMapElement();
    this.overlay = byId<VitAttentionMapElement>('overlay');
    this.overlay.addEventListener('error', (event) => this.showError(`drawing the attention map failed: ${message((event as unknown as CustomEvent<{ error: unknown }>).detail?.error)}`));
    this.controls = new Controls(() => this.render());
    this.wireInputs();
  }

  /** Start the backend, then load the server's checkpoint and look for a dataset. */
  async start(): Promise<void> {
    const backend = await startBackend(requestedBackend(), (line) => console.info(line));
    const chip = byId('backend');
    chip.textContent = backend.name;
    chip.title = backend.reason;
    this.setStatus(`TensorFlow.js ${tf.version_core}, ${backend.reason}`);
    await Promise.all([this.loadFromServer(), this.probeDataset()]);
  }

  private async loadFromServer(): Promise<void> {
    this.setStatus('Loading the model from the server…');
    try {
      await this.useModel(await loadServerCheckpoint((line) => this.setStatus(line)));
    } catch (error) {
      this.setState('no-model');
      byId('model-info').textContent = 'none loaded';
      const why = error instanceof NoServerCheckpointError ? error.message : `could not load the server's checkpoint: ${message(error)}`;
      this.showError(`${why}\nDrop a checkpoint (config.json + model.safetensors, optionally preprocessor_config.json) on the page, or use "Load checkpoint files…".`);
      this.setStatus('No model loaded.');
    }
  }

  private async probeDataset(): Promise<void> {
    try {
      const response = await fetch('api/dataset', { cache: 'no-cache' });
      if (!response.ok || !(response.headers.get('content-type') ?? '').includes('application/json')) return;
      const info = (await response.json()) as DatasetInfo;
      if (!info.available) return;
      const button = byId<HTMLButtonElement>('sample-button', HTMLButtonElement);
      const which = info.heldOut
        ? ` (held out of the ${info.split} split by training: ${info.heldOut.valPerClass} per class, seed ${info.heldOut.seed})`
        : info.split
          ? ` (${info.split} split)`
          : '';
      button.title = `${info.count} images, ${info.classes.length} classes${which}`;
      button.hidden = false;
    } catch {
      // no dataset on this server: the button stays hidden
    }
  }

  private async useModel(loaded: LoadedModel): Promise<void> {
    const previous = this.loaded;
    this.loaded = undefined;
    this.vit = undefined;
    previous?.model.dispose();
    this.run++;
    const { model } = loaded;
    const c = model.config;
    const params = [...model.params.values()].reduce((sum, v) => sum + v.size, 0);
    this.controls.configure(c.num_hidden_layers, c.num_attention_heads, model.geometry.prefixTokens);
    for (const id of ['layer-grid', 'head-grid', 'dino-grid']) byId(id).replaceChildren();
    this.setStatus('Compiling the model…');
    const vit = await load(model); // validates, and warms up: one blank image through the model
    this.loaded = loaded;
    this.vit = vit;
    const info = byId('model-info');
    info.textContent = `${c.num_hidden_layers} layers · ${c.num_attention_heads} heads · ${c.image_size}px/${c.patch_size}`;
    const { labels } = vit;
    const classes = vit.hasClassifier
      ? `${labels.length} classes (${labels.slice(0, 10).join(', ')}${labels.length > 10 ? ', …' : ''})`
      : 'no classifier (a headless encoder such as DINO: attention and its CLS embedding only)';
    info.title = `${loaded.source}: ${model.architecture}, ${(params / 1e6).toFixed(2)}M parameters, ${formatBytes(loaded.weightsBytes)}, ${classes}`;
    this.hideError();
    this.setState('model-ready');
    this.setStatus(`Model ready: ${loaded.source}, ${(params / 1e6).toFixed(2)}M parameters. Drop an image.`);
    if (this.image) await this.analyze();
  }

  private wireInputs(): void {
    const drop = byId('drop-zone');
    const fileInput = byId<HTMLInputElement>('file-input', HTMLInputElement);
    fileInput.addEventListener('change', () => {
      const file = fileInput.files?.[0];
      if (file) void this.guard(this.showImage(file, file.name));
      fileInput.value = '';
    });
    const checkpointInput = byId<HTMLInputElement>('checkpoint-input', HTMLInputElement);
    checkpointInput.addEventListener('change', () => {
      const files = Array.from(checkpointInput.files ?? []);
      if (files.length > 0) void this.guard(this.loadDropped(files));
      checkpointInput.value = '';
    });
    drop.addEventListener('click', () => fileInput.click());
    // the whole window accepts drops, so a near miss does not open the file in the tab
    window.addEventListener('dragover', (event) => {
      event.preventDefault();
      drop.classList.add('dragging');
    });
    window.addEventListener('dragleave', (event) => {
      if (event.relatedTarget === null) drop.classList.remove('dragging');
    });
    window.addEventListener('drop', (event) => {
      event.preventDefault();
      drop.classList.remove('dragging');
      if (event.dataTransfer) void this.guard(filesFromDrop(event.dataTransfer).then((files) => this.onFiles(files)));
    });
    window.addEventListener('paste', (event) => {
      const file = imageFromPaste(event);
      if (file) void this.guard(this.showImage(file, file.name && file.name !== 'image.png' ? file.name : 'pasted image'));
    });
    byId('sample-button').addEventListener('click', () => void this.guard(this.randomSample()));
    byId('error-close').addEventListener('click', () => this.hideError());
  }

  private async onFiles(files: File[]): Promise<void> {
    if (files.length === 0) throw new Error('nothing was dropped that the page can read (drop image files or checkpoint files)');
    if (looksLikeCheckpoint(files)) await this.loadDropped(files);
    else await this.showImage(files[0] as File, (files[0] as File).name);
  }

  private async loadDropped(files: File[]): Promise<void> {
    this.setStatus(`Loading the checkpoint from ${files.map((f) => f.name).join(', ')}…`);
    await this.useModel(await loadCheckpointFiles(files));
  }

  private async randomSample(): Promise<void> {
    const button = byId<HTMLButtonElement>('sample-button', HTMLButtonElement);
    button.disabled = true;
    try {
      const response = await fetch('api/sample', { cache: 'no-store' });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as Partial<ApiError>;
        throw new Error(`api/sample: ${body.error ?? `${response.status} ${response.statusText}`}`);
      }
      const header = (key: keyof SampleHeaders) => response.headers.get(key);
      const label = decodeURIComponent(header('X-Vitlens-Label') ?? '');
      const name = decodeURIComponent(header('X-Vitlens-Sample') ?? 'sample');
      await this.showImage(await response.blob(), name, label || undefined);
    } finally {
      button.disabled = false;
    }
  }

  private async showImage(blob: Blob, name: string, truth?: string): Promise<void> {
    const decoded = await readImageBlob(blob, name);
    this.image = {
      decoded,
      main: displayPixels(decoded.pixels, MAIN_SIDE),
      thumb: displayPixels(decoded.pixels, THUMB_SIDE),
      ...(truth !== undefined ? { truth } : {}),
    };
    const preview = byId<HTMLCanvasElement>('preview', HTMLCanvasElement);
    const { main } = this.image;
    preview.width = main.width;
    preview.height = main.height;
    preview.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(main.data), main.width, main.height), 0, 0);
    preview.hidden = false;
    byId('drop-hint').hidden = true;
    const scaled = decoded.pixels.width !== decoded.naturalWidth ? `, scaled to ${decoded.pixels.width}×${decoded.pixels.height} first` : '';
    byId('image-info').textContent = `${name}: ${decoded.naturalWidth}×${decoded.naturalHeight}${scaled}`;
    const truthLine = byId('truth');
    truthLine.hidden = truth === undefined;
    truthLine.className = 'truth';
    truthLine.textContent = truth === undefined ? '' : `True label: ${truth}`;
    if (!this.loaded) {
      throw new Error('no model is loaded yet: drop a checkpoint (config.json + model.safetensors) first; the image will be classified then');
    }
    await this.analyze();
  }

  private async analyze(): Promise<void> {
    const loaded = this.loaded;
    const vit = this.vit;
    const image = this.image;
    if (!loaded || !vit || !image) return;
    const run = ++this.run;
    this.setState('running');
    this.setStatus('Running the model…');
    const analysis = await analyzeImage(vit, image.decoded.pixels);
    if (run !== this.run) return;
    this.analysis = analysis;
    this.gradientClass = analysis.top[0]?.classIndex ?? 0;
    byId('inference-time').textContent = `${analysis.inferenceMs.toFixed(1)} ms`;
    document.body.dataset.inferenceMs = analysis.inferenceMs.toFixed(2);
    const truthLine = byId('truth');
    if (image.truth !== undefined) {
      const right = analysis.top[0]?.label === image.truth;
      truthLine.className = `truth ${right ? 'right' : 'wrong'}`;
      truthLine.textContent = `True label: ${image.truth} ${right ? '✓ predicted' : `✗ predicted ${analysis.top[0]?.label ?? '?'}`}`;
    }
    const best = analysis.top[0];
    const headline = byId('headline');
    headline.className = 'headline';
    if (analysis.embeddingNorm !== undefined) {
      headline.textContent = `${loaded.model.architecture}: no classifier`;
      headline.append(Object.assign(document.createElement('small'), { textContent: `CLS embedding norm ${analysis.embeddingNorm.toFixed(2)}` }));
    } else {
      headline.textContent = best?.label ?? '?';
      headline.append(Object.assign(document.createElement('small'), { textContent: `${((best?.probability ?? 0) * 100).toFixed(1)}%` }));
    }
    this.renderTop5();
    await this.render();
    await this.computeGradients(run);
  }

  private renderTop5(): void {
    if (!this.analysis) return;
    renderTop5(byId<HTMLOListElement>('top5', HTMLOListElement), this.analysis.top, this.gradientClass, (classIndex) => {
      if (classIndex === this.gradientClass) return;
      this.gradientClass = classIndex;
      this.renderTop5();
      void this.guard(this.computeGradients(this.run));
    });
  }

  /** Gradients for the selected class, then a redraw with the gradient-weighted map. */
  private async computeGradients(run: number): Promise<void> {
    const loaded = this.loaded;
    const vit = this.vit;
    const image = this.image;
    const analysis = this.analysis;
    if (!loaded || !vit || !image || !analysis) return;
    const { gradients: _old, ...withoutGradients } = analysis.attention;
    analysis.attention = withoutGradients;
    this.setState('running');
    const started = performance.now();
    const gradients = await attentionGradientsFor(vit, image.decoded.pixels, this.gradientClass);
    if (run !== this.run || this.analysis !== analysis) return;
    analysis.attention = { ...analysis.attention, gradients };
    const gradientMs = performance.now() - started;
    document.body.dataset.gradientMs = gradientMs.toFixed(2);
    byId('gradient-target').textContent = vit.hasClassifier
      ? `Gradient-weighted map for '${vit.labels[this.gradientClass] ?? String(this.gradientClass)}' (click a class to change it).`
      : 'Gradient-weighted map for the norm of the CLS embedding (this model has no classes).';
    this.setStatus(`Forward pass ${analysis.inferenceMs.toFixed(1)} ms, attention gradients ${gradientMs.toFixed(1)} ms.`);
    await this.render();
    // live tensors after a full analysis (the model's weights only): the e2e test checks it stays flat
    document.body.dataset.tensors = String(tf.memory().numTensors);
    this.setState('ready');
  }

  /** Draw the overlay, the rollout and gradient maps and every layer's map for the current settings. */
  private async render(): Promise<void> {
    const analysis = this.analysis;
    const image = this.image;
    if (!analysis || !image) return;
    const settings = this.controls.read();
    const data = analysis.attention;
    if (settings.method === 'gradient' && !data.gradients) return; // drawn when the gradients arrive
    try {
      await drawMainOverlay(this.overlay, image.main, data, settings);
      drawSummaries(byId<HTMLCanvasElement>('rollout-map', HTMLCanvasElement), byId<HTMLCanvasElement>('gradient-map', HTMLCanvasElement), image.thumb, data, settings);
      drawLayerGrid(byId('layer-grid'), image.thumb, data, settings, (layer) => {
        this.controls.selectLayer(layer);
        void this.render();
      });
      drawHeadGrid(byId('head-grid'), byId('heads-caption'), image.thumb, data, settings);
      drawDinoGrid(byId('dino-grid'), byId('dino-caption'), image.thumb, data, settings);
    } catch (error) {
      this.showError(`drawing the attention maps failed: ${message(error)}`);
      return;
    }
    const heads = settings.head === null ? `${settings.fusion} of heads` : `head ${settings.head}`;
    const layers = data.layers.length;
    byId('overlay-caption').textContent =
      settings.method === 'cls'
        ? `CLS attention, layer ${settings.layer} of 0–${layers - 1}, ${heads}`
        : settings.method === 'rollout'
          ? `Attention rollout over ${layers} layers, ${heads}`
          : `Gradient-weighted attention over ${layers} layers`;
    if (settings.query !== 0) byId('overlay-caption').textContent += `, ${tokenName(settings.query)} token`;
    document.body.dataset.renders = String(++this.renders);
  }

  /** Run an action; a failure is shown in the page, never left as an unhandled rejection. */
  async guard(action: Promise<unknown>): Promise<void> {
    try {
      await action;
    } catch (error) {
      this.showError(message(error));
      this.setState(this.loaded ? (this.analysis ? 'ready' : 'model-ready') : 'no-model');
    }
  }

  showError(text: string): void {
    byId('error-text').textContent = text;
    byId('error').hidden = false;
    console.error(`vitlens: ${text}`);
  }

  private hideError(): void {
    byId('error').hidden = true;
  }

  private setStatus(text: string): void {
    byId('status').textContent = text;
  }

  private setState(state: PageState): void {
    document.body.dataset.state = state;
  }
}
