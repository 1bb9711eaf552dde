import {
  type AttentionData,
  type AttentionMap,
  HEAD_FUSIONS,
  type TokenGrid,
  attentionRollout,
  clsAttention,
  gradientAttention,
} from '@vitlens/attention-viz';
import { type ImageSource, type PreprocessOptions, pixelsToTensor, preprocessPixels, tf, toRgbImage } from '@vitlens/core';
import { type Geometry, type ViTConfig, classNames, processorToPreprocessOptions } from '../config';
import type { VisionTransformer } from '../model';
import { CLASSIFY_OPTION_KEYS, DEFAULT_TOPK, EXPLAIN_OPTION_KEYS } from './constants';
import type {
  Classification,
  ClassifyOptions,
  Embedding,
  ExplainOptions,
  Explanation,
  ImageInput,
  Prediction,
  ViTPipeline,
} from './types';

/** Refuse option keys a call does not know, listing the ones it does. */
export function checkOptionKeys(where: string, options: object | undefined, valid: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new Error(`${where}: options must be an object with some of ${valid.join(', ')}, got ${JSON.stringify(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!valid.includes(key)) throw new Error(`${where}: unknown option '${key}'; valid options are ${valid.join(', ')}`);
  }
}

/** softmax in float64: probabilities that sum to 1 to the last digit, for any logit range. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] as number);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp((logits[i] as number) - max);
    sum += out[i] as number;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

function isTensor(image: unknown): image is tf.Tensor {
  return image instanceof tf.Tensor;
}

function integerIn(where: string, name: string, value: unknown, max: number, what: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`${where}: ${name} must be an integer in 0..${max} (${what}), got ${JSON.stringify(value)}`);
  }
}

/** The pipeline behind `load`: preprocess → forward → softmax → top-k, and the attention calls. */
export class Pipeline implements ViTPipeline {
  readonly hasClassifier: boolean;
  readonly labels: readonly string[];
  readonly geometry: Geometry;
  private readonly preprocessing: PreprocessOptions;
  private readonly grid: TokenGrid;
  private disposed = false;

  constructor(
    readonly model: VisionTransformer,
    readonly source: string,
    private readonly ownsModel: boolean,
  ) {
    this.hasClassifier = model.hasClassifier;
    this.labels = model.hasClassifier ? classNames(model.config) : [];
    this.geometry = model.geometry;
    this.preprocessing = processorToPreprocessOptions(model.processor);
    const { gridHeight, gridWidth, prefixTokens } = this.geometry;
    this.grid = { heads: model.config.num_attention_heads, gridHeight, gridWidth, prefixTokens };
  }

  get config(): ViTConfig {
    return this.model.config;
  }

  private checkUsable(where: string): void {
    if (this.disposed) throw new Error(`${where}: this pipeline was disposed`);
  }

  private requireClassifier(where: string): void {
    if (!this.hasClassifier) {
      throw new Error(
        `${where}: this ${this.model.architecture} has no classifier (a headless encoder such as DINO gives embeddings, not classes); ` +
          'use embed() for its CLS embedding or explain() for its attention',
      );
    }
  }

  private topk(where: string, requested: number | undefined): number {
    const n = this.labels.length;
    if (requested === undefined) return Math.min(DEFAULT_TOPK, n);
    if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1 || requested > n) {
      throw new Error(`${where}: topk must be an integer in 1..${n} (the model has ${n} classes), got ${JSON.stringify(requested)}`);
    }
    return requested;
  }

  /** One image → model input `[1, H', W', 3]`, preprocessed as the checkpoint says. Call inside `tf.tidy`. */
  private input(image: ImageInput, where: string): tf.Tensor4D {
    if (isTensor(image)) {
      const shape = image.shape;
      const ok = (image.rank === 3 && shape[2] === 3) || (image.rank === 4 && shape[0] === 1 && shape[3] === 3);
      if (!ok) {
        throw new Error(`${where}: a tensor image must hold pixel values 0..255 as [H, W, 3] or [1, H, W, 3], got [${shape.join(', ')}]`);
      }
      const batched = (image.rank === 3 ? tf.expandDims(image, 0) : image) as tf.Tensor4D;
      return preprocessPixels(batched, this.preprocessing);
    }
    if (image === null || image === undefined) {
      throw new Error(`${where}: expected an image (RgbImage, ImageData, <img>, <canvas>, ImageBitmap or a [H, W, 3] tensor), got ${image}`);
    }
    const rgb = toRgbImage(image as ImageSource, `${where}: image`);
    return pixelsToTensor(rgb.data, [1, rgb.height, rgb.width, 3], this.preprocessing);
  }

  private ranked(probabilities: Float64Array, k: number): Classification[] {
    return Array.from(probabilities, (probability, classIndex) => ({ classIndex, label: this.labels[classIndex] ?? String(classIndex), probability }))
      .sort((a, b) => b.probability - a.probability || a.classIndex - b.classIndex)
      .slice(0, k);
  }

  async classify(image: ImageInput, options: ClassifyOptions = {}): Promise<Classification[]> {
    checkOptionKeys('classify', options, CLASSIFY_OPTION_KEYS);
    const [prediction] = await this.run('classify', [image], options.topk);
    return (prediction as Prediction).top;
  }

  async predict(images: readonly ImageInput[], options: ClassifyOptions = {}): Promise<Prediction[]> {
    checkOptionKeys('predict', options, CLASSIFY_OPTION_KEYS);
    if (!Array.isArray(images)) throw new Error('predict: expected an array of images (use classify() for one image)');
    return this.run('predict', images, options.topk);
  }

  private async run(where: string, images: readonly ImageInput[], topk: number | undefined): Promise<Prediction[]> {
    this.checkUsable(where);
    this.requireClassifier(where);
    const k = this.topk(where, topk);
    if (images.length === 0) return [];
    const logits = tf.tidy(() => {
      // An image with a string `source` (a file name) is named by it in errors; one unnamed image by the call alone.
      const names = images.map((image, i) => {
        const source = (image as { source?: unknown }).source;
        return typeof source === 'string' ? source : `images[${i}]`;
      });
      const unnamedSingle = images.length === 1 && names[0] === 'images[0]';
      const inputs = images.map((image, i) => this.input(image, unnamedSingle ? where : `${where}: ${names[i]}`));
      const first = inputs[0] as tf.Tensor4D;
      const mismatch = inputs.findIndex((t) => t.shape[1] !== first.shape[1] || t.shape[2] !== first.shape[2]);
      if (mismatch >= 0) {
        throw new Error(
          `${where}: ${names[mismatch]} preprocesses to ${inputs[mismatch]?.shape.slice(1, 3).join('×')} but ${names[0]} to ${first.shape.slice(1, 3).join('×')}; ` +
            "the checkpoint's preprocessor_config has do_resize false, so every image must already be the model's size",
        );
      }
      return this.model.forward(inputs.length === 1 ? first : (tf.concat(inputs, 0) as tf.Tensor4D)).logits; // [B, labels]
    });
    let values: Float32Array;
    try {
      values = (await logits.data()) as Float32Array;
    } finally {
      logits.dispose();
    }
    const n = this.labels.length;
    return images.map((_, b) => {
      const row = values.slice(b * n, (b + 1) * n);
      const probabilities = softmax(row);
      return { top: this.ranked(probabilities, k), logits: row, probabilities };
    });
  }

  async explain(image: ImageInput, options: ExplainOptions = {}): Promise<Explanation> {
    checkOptionKeys('explain', options, EXPLAIN_OPTION_KEYS);
    this.checkUsable('explain');
    const { heads } = this.grid;
    const c = this.model.config;
    const classIndex = options.classIndex;
    if (classIndex !== undefined) {
      if (!this.hasClassifier) {
        throw new Error(`explain: classIndex ${classIndex} given, but this ${this.model.architecture} has no classifier; its gradient map explains the norm of the CLS embedding`);
      }
      integerIn('explain', 'classIndex', classIndex, this.labels.length - 1, `the model has ${this.labels.length} classes`);
    }
    if (options.query !== undefined) {
      integerIn('explain', 'query', options.query, this.geometry.prefixTokens - 1, this.geometry.prefixTokens > 1 ? '0 = CLS, 1 = distillation' : 'this model has only the CLS token, 0');
    }
    if (options.head !== undefined) integerIn('explain', 'head', options.head, heads - 1, `the model has ${heads} heads`);
    if (options.fusion !== undefined && !HEAD_FUSIONS.includes(options.fusion)) {
      throw new Error(`explain: fusion must be one of ${HEAD_FUSIONS.join(', ')}, got ${JSON.stringify(options.fusion)}`);
    }
    if (options.discardRatio !== undefined && !(options.discardRatio >= 0 && options.discardRatio < 1)) {
      throw new Error(`explain: discardRatio must be a number in [0, 1), got ${JSON.stringify(options.discardRatio)}`);
    }
    const k = this.hasClassifier ? this.topk('explain', options.topk) : 0;
    const gradient = options.gradient ?? true;

    const owned: tf.Tensor[] = [];
    let layers: Float32Array[];
    let gradients: Float32Array[] | undefined;
    let logits: Float32Array | undefined;
    let embeddingNorm: number | undefined;
    try {
      const input = tf.tidy(() => this.input(image, 'explain'));
      owned.push(input);
      let attentions: tf.Tensor4D[];
      let grads: tf.Tensor4D[] = [];
      let logitsT: tf.Tensor | undefined;
      let normT: tf.Tensor | undefined;
      if (this.hasClassifier) {
        if (gradient) {
          const out = this.model.attentionGradients(input, classIndex);
          [logitsT, attentions, grads] = [out.logits, out.attentions, out.gradients];
        } else {
          const out = this.model.forward(input, { outputAttentions: true });
          [logitsT, attentions] = [out.logits, out.attentions ?? []];
        }
      } else if (gradient) {
        const out = this.model.embeddingNormGradients(input);
        [normT, attentions, grads] = [out.target, out.attentions, out.gradients];
      } else {
        const out = this.model.forwardFeatures(input, { outputAttentions: true });
        owned.push(out.lastHiddenState, ...(out.poolerOutput ? [out.poolerOutput] : []));
        attentions = out.attentions ?? [];
        normT = tf.tidy(() => tf.norm(tf.slice(out.lastHiddenState, [0, 0, 0], [1, 1, -1]))); // ‖CLS embedding‖₂
      }
      owned.push(...attentions, ...grads, ...(logitsT ? [logitsT] : []), ...(normT ? [normT] : []));
      // [1, heads, T, T] per layer → Float32Array [heads, T, T]
      layers = await Promise.all(attentions.map(async (a) => (await a.data()) as Float32Array));
      if (gradient) gradients = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
      if (logitsT) logits = ((await logitsT.data()) as Float32Array).slice();
      if (normT) embeddingNorm = (await normT.data())[0] as number;
    } finally {
      tf.dispose(owned);
    }
    const attention: AttentionData = { ...this.grid, layers, ...(gradients ? { gradients } : {}) };
    if (c.num_hidden_layers !== layers.length) throw new Error(`internal: ${layers.length} attention layers for ${c.num_hidden_layers} model layers`);
    const probabilities = logits ? softmax(logits) : undefined;
    const predictions = probabilities ? this.ranked(probabilities, k) : [];
    const explained = this.hasClassifier ? (classIndex ?? (predictions[0]?.classIndex as number)) : undefined;
    return new AttentionExplanation(attention, options, {
      predictions,
      ...(logits ? { logits } : {}),
      ...(probabilities ? { probabilities } : {}),
      ...(explained !== undefined ? { classIndex: explained } : {}),
      ...(embeddingNorm !== undefined ? { embeddingNorm } : {}),
    });
  }

  async embed(image: ImageInput): Promise<Embedding> {
    this.checkUsable('embed');
    const [cls, pooler] = tf.tidy(() => {
      const out = this.model.forwardFeatures(this.input(image, 'embed'));
      const first = tf.reshape(tf.slice(out.lastHiddenState, [0, 0, 0], [1, 1, -1]), [-1]); // [hidden]
      return out.poolerOutput ? [first, tf.reshape(out.poolerOutput, [-1])] : [first];
    });
    try {
      const clsEmbedding = (await (cls as tf.Tensor).data()) as Float32Array;
      return { clsEmbedding, ...(pooler ? { poolerOutput: (await pooler.data()) as Float32Array } : {}) };
    } finally {
      tf.dispose([cls as tf.Tensor, ...(pooler ? [pooler] : [])]);
    }
  }

  /** One forward pass with attentions on a blank image, so shaders and kernels are ready. */
  async warmUp(): Promise<void> {
    const { height, width } = this.model.processor.do_resize ? this.model.processor.size : { height: this.config.image_size, width: this.config.image_size };
    await this.explain({ data: new Uint8Array(height * width * 3), width, height }, { gradient: false });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsModel) this.model.dispose();
  }
}

type Outcome = Pick<Explanation, 'predictions' | 'logits' | 'probabilities' | 'classIndex' | 'embeddingNorm'>;

/** An `Explanation` whose maps are drawn from `attention` on first read (rollout is O(layers·T³)). */
class AttentionExplanation implements Explanation {
  predictions: Classification[];
  logits?: Float32Array;
  probabilities?: Float64Array;
  classIndex?: number;
  embeddingNorm?: number;
  private clsMaps?: AttentionMap[];
  private rolloutMap?: AttentionMap;
  private gradientMap?: AttentionMap;

  constructor(
    readonly attention: AttentionData,
    private readonly options: ExplainOptions,
    outcome: Outcome,
  ) {
    this.predictions = outcome.predictions;
    if (outcome.logits) this.logits = outcome.logits;
    if (outcome.probabilities) this.probabilities = outcome.probabilities;
    if (outcome.classIndex !== undefined) this.classIndex = outcome.classIndex;
    if (outcome.embeddingNorm !== undefined) this.embeddingNorm = outcome.embeddingNorm;
  }

  private selection(): { fusion?: ExplainOptions['fusion']; head?: number; query?: number } {
    const { fusion, head, query } = this.options;
    return { ...(fusion !== undefined ? { fusion } : {}), ...(head !== undefined ? { head } : {}), ...(query !== undefined ? { query } : {}) };
  }

  get cls(): AttentionMap[] {
    this.clsMaps ??= this.attention.layers.map((layer) => clsAttention(layer, this.attention, this.selection()));
    return this.clsMaps;
  }

  get rollout(): AttentionMap {
    const { discardRatio } = this.options;
    this.rolloutMap ??= attentionRollout(this.attention.layers, this.attention, { ...this.selection(), ...(discardRatio !== undefined ? { discardRatio } : {}) });
    return this.rolloutMap;
  }

  get gradient(): AttentionMap | undefined {
    const { gradients } = this.attention;
    if (!gradients) return undefined;
    const { query } = this.options;
    this.gradientMap ??= gradientAttention(this.attention.layers, gradients, this.attention, query !== undefined ? { query } : {});
    return this.gradientMap;
  }
}
