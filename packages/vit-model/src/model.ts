import './register-gradients';
import { Rng, tf } from '@vitlens/core';
import {
  ConfigError,
  type Geometry,
  type ImageProcessorConfig,
  type ViTConfig,
  defaultProcessorConfig,
  geometry,
  normalizeLabels,
  numLabels,
} from './config';
import { type Architecture, type Layout, architectureOf, layoutOf } from './layouts';
import { dropPathMask, dropout, gelu, layerNorm, linear, patchEmbed } from './ops';
import { createVariable, initialValue, layerPrefix, paramSpecs } from './params';

export interface ForwardOptions {
  /** Return every layer's post-softmax attention [B, heads, T, T]. */
  outputAttentions?: boolean;
  /** Return the embedding output and every layer's output [B, T, hidden] (before the final LayerNorm), as HF. */
  outputHiddenStates?: boolean;
  /** Apply dropout as configured (hidden and attention probabilities). */
  training?: boolean;
  /** Seed of the dropout masks; equal seeds give equal masks on every backend. */
  seed?: number;
  /**
   * Stochastic depth (with `training` only): for each image, skip a layer's attention branch and,
   * separately, its MLP branch with probability `dropPathRate · i / (L − 1)` at layer `i` of `L`
   * (0 at the first layer, `dropPathRate` at the last, as DeiT and timm), scaling kept branches by
   * `1 / (1 − p)`. In [0, 1); default 0. Training-only, so the weights keep the HF layout.
   */
  dropPathRate?: number;
}

export interface ClassifierForwardOptions extends ForwardOptions {
  /** DeiT with teacher: also return each head's logits (`clsLogits`, `distillationLogits`). */
  outputHeadLogits?: boolean;
}

export interface ForwardOutput {
  /** [B, labels]; DeiT with teacher: the mean of its two heads' logits, as HF. */
  logits: tf.Tensor2D;
  /** DeiT with teacher and `outputHeadLogits`: the CLS head's logits [B, labels]. */
  clsLogits?: tf.Tensor2D;
  /** DeiT with teacher and `outputHeadLogits`: the distillation head's logits [B, labels]. */
  distillationLogits?: tf.Tensor2D;
  attentions?: tf.Tensor4D[];
  hiddenStates?: tf.Tensor3D[];
}

/** What `forwardFeatures` returns: HF `BaseModelOutputWithPooling`. */
export interface FeaturesOutput {
  /** [B, T, hidden] after the final LayerNorm; token 0 is the CLS embedding (DINO's image feature). */
  lastHiddenState: tf.Tensor3D;
  /** [B, pooler_output_size]: tanh(dense(CLS)), for bare models that have a pooler. */
  poolerOutput?: tf.Tensor2D;
  attentions?: tf.Tensor4D[];
  hiddenStates?: tf.Tensor3D[];
}

/** What the attention-gradient methods return; the caller disposes every tensor. */
export interface AttentionGradients {
  /** [B]: the value differentiated per image (a class logit, or the CLS embedding's norm). */
  target: tf.Tensor1D;
  /** Every layer's post-softmax attention [B, heads, T, T]. */
  attentions: tf.Tensor4D[];
  /** d target / d attention per layer, [B, heads, T, T]. */
  gradients: tf.Tensor4D[];
}

/** Internal forward options: additive offsets on each layer's attention probabilities (for gradients). */
interface InternalForwardOptions extends ForwardOptions {
  attentionOffsets?: tf.Tensor4D[];
}

interface Encoded {
  /** [B, T, hidden], before the final LayerNorm. */
  last: tf.Tensor3D;
  attentions: tf.Tensor4D[];
  hiddenStates: tf.Tensor3D[];
}

export interface CreateOptions {
  seed?: number | string;
  processor?: ImageProcessorConfig;
  /** Bare models (ViTModel, DeiTModel): whether to have HF's pooler (default true, as HF). */
  pooler?: boolean;
}

type Constructor = new (
  config: ViTConfig,
  layout: Layout,
  processor: ImageProcessorConfig,
  params: Map<string, tf.Variable>,
  seed: number | string,
) => VisionTransformer;

/**
 * The Vision Transformer encoder of Hugging Face `ViTForImageClassification`, `ViTModel`,
 * `DeiTForImageClassification`, `DeiTForImageClassificationWithTeacher` and `DeiTModel` in
 * TensorFlow.js: same parameter names, same numbers. `layout` says which one this is (its key
 * prefix, DeiT's distillation token, its heads or pooler); the subclasses of the same names exist
 * for `instanceof` and for `create`.
 *
 * ```ts
 * const model = ViTForImageClassification.create(createConfig('vit-mini-patch4-32'), { seed: 1 });
 * const { logits, attentions } = model.forward(pixels, { outputAttentions: true });
 * ```
 */
export class VisionTransformer {
  /** The architecture `create` builds; undefined on the base class (it reads `config.architectures`). */
  static readonly architecture: Architecture | undefined = undefined;
  private currentConfig: ViTConfig;
  readonly layout: Layout;
  readonly processor: ImageProcessorConfig;
  /** Parameters keyed by HF state-dict names, with HF shapes. */
  readonly params: Map<string, tf.Variable>;
  /** Parameters that were freshly initialised rather than loaded (e.g. a new classifier). */
  initializedFromSeed: string[] = [];
  private readonly seed: number | string;
  private dropoutCalls = 0;
  private disposed = false;

  /** @internal Use `create`, `modelFromFiles` or `loadCheckpoint`. */
  constructor(config: ViTConfig, layout: Layout, processor: ImageProcessorConfig, params: Map<string, tf.Variable>, seed: number | string) {
    this.currentConfig = config;
    this.layout = layout;
    this.processor = processor;
    this.params = params;
    this.seed = seed;
  }

  get config(): ViTConfig {
    return this.currentConfig;
  }

  /** The HF class name: 'ViTForImageClassification', 'ViTModel', 'DeiTForImageClassificationWithTeacher', … */
  get architecture(): Architecture {
    return this.layout.architecture;
  }

  /** False for the bare encoders (ViTModel, DeiTModel, e.g. DINO): they give embeddings, not logits. */
  get hasClassifier(): boolean {
    return this.layout.heads.length > 0;
  }

  /** `[CLS, (distillation,) patches]`: the patch grid, the prefix tokens and T (`geometry(config)`). */
  get geometry(): Geometry {
    return geometry(this.config);
  }

  /** @deprecated Use `geometry`. */
  get tokens(): Geometry {
    return this.geometry;
  }

  /**
   * A freshly initialised model (HF `_init_weights`), reproducible from `seed` on every backend.
   * On a subclass, that architecture; on `VisionTransformer`, the one `config.architectures` names.
   */
  static create(config: ViTConfig, opts: CreateOptions = {}): VisionTransformer {
    // biome-ignore lint/complexity/noThisInStatic: the subclass's own architecture (ViTModel.create builds a ViTModel)
    const layout = layoutOf(this.architecture ?? architectureOf(config), opts.pooler ?? true);
    if (layout.modelType !== config.model_type) {
      throw new ConfigError(`${layout.architecture}.create: config.model_type must be "${layout.modelType}", got "${config.model_type}"`);
    }
    const seed = opts.seed ?? 0;
    const values = new Map(paramSpecs(config, layout).map((spec) => [spec.name, initialValue(spec, config, seed)]));
    const model = VisionTransformer.fromValues(config, layout, opts.processor ?? defaultProcessorConfig(config), values, seed);
    model.initializedFromSeed = [...values.keys()];
    return model;
  }

  /** @internal Build from loaded values (checkpoint loader); `values` must hold every parameter of the layout. */
  static fromValues(
    config: ViTConfig,
    layout: Layout,
    processor: ImageProcessorConfig,
    values: Map<string, Float32Array>,
    seed: number | string,
  ): VisionTransformer {
    const params = new Map<string, tf.Variable>();
    for (const spec of paramSpecs(config, layout)) {
      const v = values.get(spec.name);
      if (!v) throw new Error(`internal: no value for ${spec.name}`);
      params.set(spec.name, createVariable(v, spec.shape));
    }
    const Class = MODEL_CLASSES[layout.architecture];
    return new Class({ ...config, architectures: [layout.architecture] }, layout, processor, params, seed);
  }

  private param<R extends tf.Rank>(name: string): tf.Tensor<R> {
    const v = this.params.get(name);
    if (!v) {
      throw new Error(this.disposed ? `${this.architecture}: used after dispose()` : `${this.architecture}: no parameter '${name}'`);
    }
    return v as unknown as tf.Tensor<R>;
  }

  private checkInput(pixelValues: tf.Tensor4D): void {
    if (this.disposed) throw new Error(`${this.architecture}: used after dispose()`);
    const { image_size: size, num_channels: channels } = this.config;
    const shape = pixelValues.shape;
    if (shape.length !== 4 || shape[1] !== size || shape[2] !== size || shape[3] !== channels) {
      throw new Error(
        `forward: pixelValues must be [B, ${size}, ${size}, ${channels}] (NHWC, preprocessed), got [${shape.join(', ')}]; ` +
          `load with { imageSize } to run at another size`,
      );
    }
    if (pixelValues.dtype !== 'float32') throw new Error(`forward: pixelValues must be float32, got ${pixelValues.dtype}`);
  }

  private requireClassifier(what: string, hint: string): void {
    if (!this.hasClassifier) {
      throw new Error(
        `${what}: this ${this.architecture} has no classifier (a headless encoder such as DINO gives embeddings, not classes); ${hint}`,
      );
    }
  }

  /**
   * Logits (and optionally attentions / hidden states). Does not dispose its input; the caller
   * disposes every output tensor. Each block runs in its own `tf.tidy` to bound memory.
   * Throws for a headless model (use `forwardFeatures`).
   */
  forward(pixelValues: tf.Tensor4D, opts: ClassifierForwardOptions = {}): ForwardOutput {
    this.requireClassifier('forward', 'use forwardFeatures() for its embeddings, or load it with { id2label } to add a classifier');
    return this.forwardInternal(pixelValues, opts);
  }

  /**
   * The encoder's output as HF `BaseModelOutputWithPooling`, for every architecture: the final
   * LayerNorm's output `[B, T, hidden]`, the pooler's output when the model has a pooler, and
   * optionally attentions / hidden states. The caller disposes every output tensor.
   */
  forwardFeatures(pixelValues: tf.Tensor4D, opts: ForwardOptions = {}): FeaturesOutput {
    const { last, attentions, hiddenStates } = this.encode(pixelValues, opts);
    const lastHiddenState = tf.tidy(() => this.finalNorm(last)) as tf.Tensor3D;
    if (!opts.outputHiddenStates) last.dispose();
    const out: FeaturesOutput = { lastHiddenState };
    if (this.layout.pooler) out.poolerOutput = tf.tidy(() => this.pool(lastHiddenState));
    if (opts.outputAttentions) out.attentions = attentions;
    if (opts.outputHiddenStates) out.hiddenStates = hiddenStates;
    return out;
  }

  private forwardInternal(pixelValues: tf.Tensor4D, opts: InternalForwardOptions & ClassifierForwardOptions): ForwardOutput {
    const { last, attentions, hiddenStates } = this.encode(pixelValues, opts);
    const heads = tf.tidy(() => this.layout.heads.map((head) => this.head(this.finalNorm(last), head.name, head.token)));
    if (!opts.outputHiddenStates) last.dispose();
    // HF DeiTForImageClassificationWithTeacher: logits = (cls_logits + distillation_logits) / 2
    const logits = heads.length === 1 ? (heads[0] as tf.Tensor2D) : (tf.tidy(() => tf.div(tf.addN(heads), heads.length)) as tf.Tensor2D);
    const out: ForwardOutput = { logits };
    if (heads.length > 1) {
      if (opts.outputHeadLogits) [out.clsLogits, out.distillationLogits] = heads as [tf.Tensor2D, tf.Tensor2D];
      else tf.dispose(heads);
    }
    if (opts.outputAttentions) out.attentions = attentions;
    if (opts.outputHiddenStates) out.hiddenStates = hiddenStates;
    return out;
  }

  /** Embeddings and every encoder layer; keeps attentions and hidden states only when asked. */
  private encode(pixelValues: tf.Tensor4D, opts: InternalForwardOptions): Encoded {
    this.checkInput(pixelValues);
    const c = this.config;
    const training = opts.training === true;
    const dropPathRate = opts.dropPathRate ?? 0;
    if (!(dropPathRate >= 0 && dropPathRate < 1)) throw new RangeError(`forward: dropPathRate must be in [0, 1), got ${dropPathRate}`);
    const rng = training ? new Rng(opts.seed ?? `${this.seed}:dropout:${this.dropoutCalls++}`) : undefined;
    const hiddenDrop = (x: tf.Tensor): tf.Tensor => (rng ? dropout(x, c.hidden_dropout_prob, rng) : x);
    const attentions: tf.Tensor4D[] = [];
    const hiddenStates: tf.Tensor3D[] = [];
    let hidden = tf.tidy(() => hiddenDrop(this.embed(pixelValues))) as tf.Tensor3D; // [B, T, hidden]
    for (let i = 0; i < c.num_hidden_layers; i++) {
      if (opts.outputHiddenStates) hiddenStates.push(hidden);
      const input = hidden;
      // timm's linspace(0, rate, L): the deeper the layer, the likelier its branches are skipped.
      const layerDropPath = rng && c.num_hidden_layers > 1 ? (dropPathRate * i) / (c.num_hidden_layers - 1) : 0;
      const [next, probs] = tf.tidy(() => this.block(i, input, rng, opts.attentionOffsets?.[i], layerDropPath));
      if (!opts.outputHiddenStates) input.dispose();
      hidden = next;
      if (opts.outputAttentions) attentions.push(probs);
      else probs.dispose();
    }
    if (opts.outputHiddenStates) hiddenStates.push(hidden);
    return { last: hidden, attentions, hiddenStates };
  }

  /** The final LayerNorm: [B, T, hidden] → [B, T, hidden]. */
  private finalNorm(last: tf.Tensor3D): tf.Tensor3D {
    const p = this.layout.prefix;
    return layerNorm(last, this.param(`${p}layernorm.weight`), this.param(`${p}layernorm.bias`), this.config.layer_norm_eps) as tf.Tensor3D;
  }

  /** One token of the normed sequence: [B, T, hidden] → [B, hidden]. */
  private token(normed: tf.Tensor3D, index: number): tf.Tensor2D {
    return tf.reshape(tf.slice(normed, [0, index, 0], [-1, 1, -1]), [-1, this.config.hidden_size]);
  }

  /** A linear head on one token: [B, T, hidden] → [B, labels]. */
  private head(normed: tf.Tensor3D, name: string, token: number): tf.Tensor2D {
    return linear(this.token(normed, token), this.param(`${name}.weight`), this.param(`${name}.bias`)) as tf.Tensor2D;
  }

  /** HF pooler: tanh(dense(CLS)): [B, T, hidden] → [B, pooler_output_size]. */
  private pool(normed: tf.Tensor3D): tf.Tensor2D {
    const p = `${this.layout.prefix}pooler.dense`;
    return tf.tanh(linear(this.token(normed, 0), this.param(`${p}.weight`), this.param(`${p}.bias`))) as tf.Tensor2D;
  }

  /**
   * Patch embedding, CLS token (DeiT: and distillation token), position embeddings:
   * [B, H, W, 3] → [B, prefix + N, hidden]. No gather.
   */
  private embed(pixelValues: tf.Tensor4D): tf.Tensor3D {
    const batch = pixelValues.shape[0];
    const h = this.config.hidden_size;
    const e = `${this.layout.prefix}embeddings.`;
    const patches = patchEmbed(
      pixelValues,
      this.param(`${e}patch_embeddings.projection.weight`),
      this.param(`${e}patch_embeddings.projection.bias`),
    ); // [B, N, hidden]
    const special = [this.param<tf.Rank.R3>(`${e}cls_token`)];
    if (this.layout.modelType === 'deit') special.push(this.param<tf.Rank.R3>(`${e}distillation_token`));
    const prefix = special.map((t) => tf.broadcastTo(t, [batch, 1, h])); // each [B, 1, hidden]
    const tokens = tf.concat([...prefix, patches], 1); // [B, T, hidden]
    return tf.add(tokens, this.param(`${e}position_embeddings`)) as tf.Tensor3D;
  }

  /**
   * One pre-norm encoder layer: returns the layer output [B, T, hidden] and the attention
   * probabilities. In training (`rng`), each residual branch of each image is skipped with
   * probability `dropPath` (stochastic depth).
   */
  private block(i: number, x: tf.Tensor3D, rng: Rng | undefined, attentionOffset?: tf.Tensor4D, dropPath = 0): [tf.Tensor3D, tf.Tensor4D] {
    const c = this.config;
    const p = `${layerPrefix(this.layout)}${i}`;
    const [batch, tokens, hidden] = x.shape;
    const heads = c.num_attention_heads;
    const headDim = hidden / heads;
    const bias = (name: string): tf.Tensor1D | undefined => (this.params.has(name) ? this.param<tf.Rank.R1>(name) : undefined);
    const eps = c.layer_norm_eps;

    const normed = layerNorm(x, this.param(`${p}.layernorm_before.weight`), this.param(`${p}.layernorm_before.bias`), eps);
    const split = (name: string): tf.Tensor3D => {
      const y = linear(normed, this.param(`${p}.attention.attention.${name}.weight`), bias(`${p}.attention.attention.${name}.bias`)); // [B, T, hidden]
      const heads4 = tf.transpose(tf.reshape(y, [batch, tokens, heads, headDim]), [0, 2, 1, 3]); // [B, heads, T, headDim]
      return tf.reshape(heads4, [batch * heads, tokens, headDim]) as tf.Tensor3D; // [B·heads, T, headDim]
    };
    const q = split('query');
    const k = split('key');
    const v = split('value');
    // Batched matMul measured as fast as the alternatives on wasm (scripts/bench-attention.mjs).
    const scores = tf.mul(tf.matMul(q, k, false, true), headDim ** -0.5); // [B·heads, T, T]
    let probs = tf.reshape(tf.softmax(scores), [batch, heads, tokens, tokens]) as tf.Tensor4D; // [B, heads, T, T]
    if (rng) probs = dropout(probs, c.attention_probs_dropout_prob, rng) as tf.Tensor4D;
    if (attentionOffset) probs = tf.add(probs, attentionOffset);
    const context = tf.matMul(tf.reshape(probs, [batch * heads, tokens, tokens]), v); // [B·heads, T, headDim]
    const merged = tf.reshape(tf.transpose(tf.reshape(context, [batch, heads, tokens, headDim]), [0, 2, 1, 3]), [batch, tokens, hidden]); // [B, T, hidden]
    let attnOut = linear(merged, this.param(`${p}.attention.output.dense.weight`), this.param(`${p}.attention.output.dense.bias`));
    if (rng) attnOut = dropout(attnOut, c.hidden_dropout_prob, rng);
    if (rng && dropPath > 0) attnOut = tf.mul(attnOut, dropPathMask(batch, dropPath, rng)); // [B, T, hidden] · [B, 1, 1]
    const afterAttention = tf.add(attnOut, x); // first residual

    const normed2 = layerNorm(afterAttention, this.param(`${p}.layernorm_after.weight`), this.param(`${p}.layernorm_after.bias`), eps);
    const inter = gelu(linear(normed2, this.param(`${p}.intermediate.dense.weight`), this.param(`${p}.intermediate.dense.bias`))); // [B, T, mlp]
    let out = linear(inter, this.param(`${p}.output.dense.weight`), this.param(`${p}.output.dense.bias`)); // [B, T, hidden]
    if (rng) out = dropout(out, c.hidden_dropout_prob, rng);
    if (rng && dropPath > 0) out = tf.mul(out, dropPathMask(batch, dropPath, rng)); // [B, T, hidden] · [B, 1, 1]
    return [tf.add(out, afterAttention) as tf.Tensor3D, probs]; // second residual
  }

  /**
   * Gradient of logits[:, classIndex] (default: each row's argmax) w.r.t. every layer's
   * post-softmax attention, in eval mode. DeiT with teacher: of the averaged logits. Returns
   * [B, heads, T, T] per layer; caller disposes all. Throws for a headless model (see `embeddingNormGradients`).
   */
  attentionGradients(pixelValues: tf.Tensor4D, classIndex?: number): { logits: tf.Tensor2D; attentions: tf.Tensor4D[]; gradients: tf.Tensor4D[] } {
    this.requireClassifier('attentionGradients', 'embeddingNormGradients() explains the norm of its CLS embedding instead');
    this.checkInput(pixelValues);
    const labels = numLabels(this.config);
    if (classIndex !== undefined && (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= labels)) {
      throw new Error(`attentionGradients: classIndex must be an integer in 0..${labels - 1}, got ${classIndex}`);
    }
    const [batch] = pixelValues.shape;
    let logits: tf.Tensor2D | undefined;
    const result = this.gradientsOf(pixelValues, (offsets) => {
      const out = this.forwardInternal(pixelValues, { outputAttentions: true, attentionOffsets: offsets });
      logits = tf.keep(out.logits.clone());
      const mask =
        classIndex === undefined
          ? tf.cast(tf.oneHot(tf.argMax(out.logits, 1), labels), 'float32') // [B, labels]; wasm 4.22's float32 OneHot writes int bits (1 → 1.4e-45)
          : tf.cast(tf.oneHot(tf.fill([batch], classIndex, 'int32') as tf.Tensor1D, labels), 'float32');
      return { perImage: tf.sum(tf.mul(out.logits, mask), 1) as tf.Tensor1D, attentions: out.attentions ?? [] }; // logits[b, class_b]
    });
    result.target.dispose();
    return { logits: logits as unknown as tf.Tensor2D, attentions: result.attentions, gradients: result.gradients };
  }

  /**
   * A gradient target for models without a classifier (DINO): the L2 norm of each image's CLS
   * embedding (token 0 of the final LayerNorm's output, the feature DINO trains), differentiated
   * w.r.t. every layer's attention in eval mode. Works for every architecture. Caller disposes all.
   */
  embeddingNormGradients(pixelValues: tf.Tensor4D): AttentionGradients {
    this.checkInput(pixelValues);
    return this.gradientsOf(pixelValues, (offsets) => {
      const { last, attentions } = this.encode(pixelValues, { outputAttentions: true, attentionOffsets: offsets });
      const cls = this.token(this.finalNorm(last), 0); // [B, hidden]
      return { perImage: tf.sqrt(tf.sum(tf.square(cls), 1)) as tf.Tensor1D, attentions }; // [B]
    });
  }

  /** d Σ_b perImage[b] / d attention, with zero offsets added to every layer's attention as the handle. */
  private gradientsOf(
    pixelValues: tf.Tensor4D,
    objective: (offsets: tf.Tensor4D[]) => { perImage: tf.Tensor1D; attentions: tf.Tensor4D[] },
  ): AttentionGradients {
    const c = this.config;
    const [batch] = pixelValues.shape;
    const { tokens } = this.geometry;
    const offsets = Array.from({ length: c.num_hidden_layers }, () =>
      tf.zeros([batch, c.num_attention_heads, tokens, tokens]),
    ) as tf.Tensor4D[];
    let target: tf.Tensor1D | undefined;
    let attentions: tf.Tensor4D[] = [];
    let gradients: tf.Tensor4D[];
    try {
      gradients = tf.grads((...zs: tf.Tensor[]) => {
        const out = objective(zs as tf.Tensor4D[]);
        // The attentions returned include the zero offsets, i.e. equal the post-softmax values.
        target = tf.keep(out.perImage.clone());
        attentions = out.attentions.map((a) => tf.keep(a.clone()));
        return tf.sum(out.perImage);
      })(offsets) as tf.Tensor4D[];
    } finally {
      for (const z of offsets) z.dispose();
    }
    return { target: target as unknown as tf.Tensor1D, attentions, gradients };
  }

  /** @internal Forward with additive offsets on the attention probabilities (finite-difference checks). */
  forwardWithAttentionOffsets(pixelValues: tf.Tensor4D, offsets: tf.Tensor4D[]): tf.Tensor2D {
    return this.forwardInternal(pixelValues, { attentionOffsets: offsets }).logits;
  }

  /** Parameters that get weight decay (not biases, LayerNorm weights, position embeddings, CLS/distillation tokens). */
  decayParamNames(): string[] {
    return paramSpecs(this.config, this.layout).filter((s) => s.decay).map((s) => s.name);
  }

  /** Replace the classifier(s) for a new label set, freshly initialised from `seed` (HF `_init_weights`). */
  replaceHead(id2label: Record<string, string>, seed: number | string = this.seed): void {
    if (this.disposed) throw new Error(`${this.architecture}: used after dispose()`);
    this.requireClassifier('replaceHead', 'load it with { id2label } to get the family\'s classifier with a new head');
    const labels = normalizeLabels('replaceHead(id2label)', id2label, undefined);
    const config: ViTConfig = { ...this.config, id2label: labels.id2label, label2id: labels.label2id };
    const headNames = new Set(this.layout.heads.map((h) => h.name));
    for (const spec of paramSpecs(config, this.layout).filter((s) => headNames.has(s.name.slice(0, s.name.lastIndexOf('.'))))) {
      this.params.get(spec.name)?.dispose();
      this.params.set(spec.name, createVariable(initialValue(spec, config, seed), spec.shape));
      if (!this.initializedFromSeed.includes(spec.name)) this.initializedFromSeed.push(spec.name);
    }
    this.currentConfig = config;
  }

  /** Number of parameters. */
  numParams(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Free every parameter. The model cannot be used afterwards. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
    this.disposed = true;
  }
}

/** Hugging Face `ViTForImageClassification`: `vit.…` keys, CLS token, one `classifier`. */
export class ViTForImageClassification extends VisionTransformer {
  static override readonly architecture: Architecture = 'ViTForImageClassification';
}

/** Hugging Face `ViTModel` (e.g. DINO): bare `embeddings.…`/`encoder.…` keys, an optional pooler, no classifier. */
export class ViTModel extends VisionTransformer {
  static override readonly architecture: Architecture = 'ViTModel';
}

/** Hugging Face `DeiTForImageClassification`: `deit.…` keys, CLS + distillation tokens, one `classifier` on CLS. */
export class DeiTForImageClassification extends VisionTransformer {
  static override readonly architecture: Architecture = 'DeiTForImageClassification';
}

/** Hugging Face `DeiTForImageClassificationWithTeacher`: `cls_classifier` on CLS, `distillation_classifier` on the distillation token, logits averaged. */
export class DeiTForImageClassificationWithTeacher extends VisionTransformer {
  static override readonly architecture: Architecture = 'DeiTForImageClassificationWithTeacher';
}

/** Hugging Face `DeiTModel`: bare keys, CLS + distillation tokens, an optional pooler, no classifier. */
export class DeiTModel extends VisionTransformer {
  static override readonly architecture: Architecture = 'DeiTModel';
}

const MODEL_CLASSES: Record<Architecture, Constructor> = {
  ViTForImageClassification,
  ViTModel,
  DeiTForImageClassification,
  DeiTForImageClassificationWithTeacher,
  DeiTModel,
};
