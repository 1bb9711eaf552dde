import './register-gradients';
import { Rng, tf } from '@vitlens/core';
import { type ImageProcessorConfig, type ViTConfig, defaultProcessorConfig, normalizeLabels, numLabels } from './config';
import { dropout, gelu, layerNorm, linear, patchEmbed } from './ops';
import { LAYER_PREFIX, createVariable, initialValue, paramSpecs } from './params';

export interface ForwardOptions {
  /** Return every layer's post-softmax attention [B, heads, T, T]. */
  outputAttentions?: boolean;
  /** Return the embedding output and every layer's output [B, T, hidden] (before the final LayerNorm), as HF. */
  outputHiddenStates?: boolean;
  /** Apply dropout as configured (hidden and attention probabilities). */
  training?: boolean;
  /** Seed of the dropout masks; equal seeds give equal masks on every backend. */
  seed?: number;
}

export interface ForwardOutput {
  logits: tf.Tensor2D;
  attentions?: tf.Tensor4D[];
  hiddenStates?: tf.Tensor3D[];
}

/** Internal forward options: additive offsets on each layer's attention probabilities (for gradients). */
interface InternalForwardOptions extends ForwardOptions {
  attentionOffsets?: tf.Tensor4D[];
}

/**
 * Hugging Face `ViTForImageClassification` in TensorFlow.js: same parameter names, same numbers.
 *
 * ```ts
 * const model = ViTForImageClassification.create(createConfig('vit-mini-patch4-32'), { seed: 1 });
 * const { logits, attentions } = model.forward(pixels, { outputAttentions: true });
 * ```
 */
export class ViTForImageClassification {
  private currentConfig: ViTConfig;
  readonly processor: ImageProcessorConfig;
  /** Parameters keyed by HF state-dict names, with HF shapes. */
  readonly params: Map<string, tf.Variable>;
  /** Parameters that were freshly initialised rather than loaded (e.g. a new classifier). */
  initializedFromSeed: string[] = [];
  private readonly seed: number | string;
  private dropoutCalls = 0;
  private disposed = false;

  private constructor(config: ViTConfig, processor: ImageProcessorConfig, params: Map<string, tf.Variable>, seed: number | string) {
    this.currentConfig = config;
    this.processor = processor;
    this.params = params;
    this.seed = seed;
  }

  get config(): ViTConfig {
    return this.currentConfig;
  }

  /** A freshly initialised model (HF `_init_weights`), reproducible from `seed` on every backend. */
  static create(config: ViTConfig, opts: { seed?: number | string; processor?: ImageProcessorConfig } = {}): ViTForImageClassification {
    const seed = opts.seed ?? 0;
    const params = new Map<string, tf.Variable>();
    for (const spec of paramSpecs(config)) params.set(spec.name, createVariable(initialValue(spec, config, seed), spec.shape));
    const model = new ViTForImageClassification(config, opts.processor ?? defaultProcessorConfig(config), params, seed);
    model.initializedFromSeed = [...params.keys()];
    return model;
  }

  /** @internal Build from loaded values (checkpoint loader); `values` must hold every parameter. */
  static fromValues(config: ViTConfig, processor: ImageProcessorConfig, values: Map<string, Float32Array>, seed: number | string): ViTForImageClassification {
    const params = new Map<string, tf.Variable>();
    for (const spec of paramSpecs(config)) {
      const v = values.get(spec.name);
      if (!v) throw new Error(`internal: no value for ${spec.name}`);
      params.set(spec.name, createVariable(v, spec.shape));
    }
    return new ViTForImageClassification(config, processor, params, seed);
  }

  private param<R extends tf.Rank>(name: string): tf.Tensor<R> {
    const v = this.params.get(name);
    if (!v) {
      throw new Error(this.disposed ? `ViTForImageClassification: used after dispose()` : `ViTForImageClassification: no parameter '${name}'`);
    }
    return v as unknown as tf.Tensor<R>;
  }

  private checkInput(pixelValues: tf.Tensor4D): void {
    if (this.disposed) throw new Error('ViTForImageClassification: used after dispose()');
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

  /**
   * Logits (and optionally attentions / hidden states). Does not dispose its input; the caller
   * disposes every output tensor. Each block runs in its own `tf.tidy` to bound memory.
   */
  forward(pixelValues: tf.Tensor4D, opts: ForwardOptions = {}): ForwardOutput {
    return this.forwardInternal(pixelValues, opts);
  }

  private forwardInternal(pixelValues: tf.Tensor4D, opts: InternalForwardOptions): ForwardOutput {
    this.checkInput(pixelValues);
    const c = this.config;
    const training = opts.training === true;
    const rng = training ? new Rng(opts.seed ?? `${this.seed}:dropout:${this.dropoutCalls++}`) : undefined;
    const hiddenDrop = (x: tf.Tensor): tf.Tensor => (rng ? dropout(x, c.hidden_dropout_prob, rng) : x);
    const attentions: tf.Tensor4D[] = [];
    const hiddenStates: tf.Tensor3D[] = [];
    let hidden = tf.tidy(() => hiddenDrop(this.embed(pixelValues))) as tf.Tensor3D; // [B, T, hidden]
    for (let i = 0; i < c.num_hidden_layers; i++) {
      if (opts.outputHiddenStates) hiddenStates.push(hidden);
      const input = hidden;
      const [next, probs] = tf.tidy(() => this.block(i, input, rng, opts.attentionOffsets?.[i]));
      if (!opts.outputHiddenStates) input.dispose();
      hidden = next;
      if (opts.outputAttentions) attentions.push(probs);
      else probs.dispose();
    }
    if (opts.outputHiddenStates) hiddenStates.push(hidden);
    const last = hidden;
    const logits = tf.tidy(() => {
      const normed = layerNorm(last, this.param('vit.layernorm.weight'), this.param('vit.layernorm.bias'), c.layer_norm_eps);
      const cls = tf.reshape(tf.slice(normed, [0, 0, 0], [-1, 1, -1]), [-1, c.hidden_size]); // [B, hidden]
      return linear(cls, this.param('classifier.weight'), this.param('classifier.bias')) as tf.Tensor2D; // [B, labels]
    });
    if (!opts.outputHiddenStates) last.dispose();
    const out: ForwardOutput = { logits };
    if (opts.outputAttentions) out.attentions = attentions;
    if (opts.outputHiddenStates) out.hiddenStates = hiddenStates;
    return out;
  }

  /** Patch embedding, CLS token, position embeddings: [B, H, W, 3] → [B, 1 + N, hidden]. No gather. */
  private embed(pixelValues: tf.Tensor4D): tf.Tensor3D {
    const batch = pixelValues.shape[0];
    const h = this.config.hidden_size;
    const patches = patchEmbed(
      pixelValues,
      this.param('vit.embeddings.patch_embeddings.projection.weight'),
      this.param('vit.embeddings.patch_embeddings.projection.bias'),
    ); // [B, N, hidden]
    const cls = tf.broadcastTo(this.param<tf.Rank.R3>('vit.embeddings.cls_token'), [batch, 1, h]); // [B, 1, hidden]
    const tokens = tf.concat([cls, patches], 1); // [B, T, hidden]
    return tf.add(tokens, this.param('vit.embeddings.position_embeddings')) as tf.Tensor3D;
  }

  /** One pre-norm encoder layer: returns the layer output [B, T, hidden] and the attention probabilities. */
  private block(i: number, x: tf.Tensor3D, rng: Rng | undefined, attentionOffset?: tf.Tensor4D): [tf.Tensor3D, tf.Tensor4D] {
    const c = this.config;
    const p = `${LAYER_PREFIX}${i}`;
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
    const afterAttention = tf.add(attnOut, x); // first residual

    const normed2 = layerNorm(afterAttention, this.param(`${p}.layernorm_after.weight`), this.param(`${p}.layernorm_after.bias`), eps);
    const inter = gelu(linear(normed2, this.param(`${p}.intermediate.dense.weight`), this.param(`${p}.intermediate.dense.bias`))); // [B, T, mlp]
    let out = linear(inter, this.param(`${p}.output.dense.weight`), this.param(`${p}.output.dense.bias`)); // [B, T, hidden]
    if (rng) out = dropout(out, c.hidden_dropout_prob, rng);
    return [tf.add(out, afterAttention) as tf.Tensor3D, probs]; // second residual
  }

  /**
   * Gradient of logits[:, classIndex] (default: each row's argmax) w.r.t. every layer's
   * post-softmax attention, in eval mode. Returns [B, heads, T, T] per layer; caller disposes all.
   */
  attentionGradients(pixelValues: tf.Tensor4D, classIndex?: number): { logits: tf.Tensor2D; attentions: tf.Tensor4D[]; gradients: tf.Tensor4D[] } {
    this.checkInput(pixelValues);
    const c = this.config;
    const labels = numLabels(c);
    if (classIndex !== undefined && (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= labels)) {
      throw new Error(`attentionGradients: classIndex must be an integer in 0..${labels - 1}, got ${classIndex}`);
    }
    const [batch] = pixelValues.shape;
    const tokens = (c.image_size / c.patch_size) ** 2 + 1;
    const offsets = Array.from({ length: c.num_hidden_layers }, () =>
      tf.zeros([batch, c.num_attention_heads, tokens, tokens]),
    ) as tf.Tensor4D[];
    let logits: tf.Tensor2D | undefined;
    let attentions: tf.Tensor4D[] = [];
    let gradients: tf.Tensor4D[];
    try {
      gradients = tf.grads((...zs: tf.Tensor[]) => {
        const out = this.forwardInternal(pixelValues, { outputAttentions: true, attentionOffsets: zs as tf.Tensor4D[] });
        // The attentions returned include the zero offsets, i.e. equal the post-softmax values.
        logits = tf.keep(out.logits.clone());
        attentions = (out.attentions ?? []).map((a) => tf.keep(a.clone()));
        const mask =
          classIndex === undefined
            ? tf.cast(tf.oneHot(tf.argMax(out.logits, 1), labels), 'float32') // [B, labels]; wasm 4.22's float32 OneHot writes int bits (1 → 1.4e-45)
            : tf.cast(tf.oneHot(tf.fill([batch], classIndex, 'int32') as tf.Tensor1D, labels), 'float32');
        return tf.sum(tf.mul(out.logits, mask)); // Σ_b logits[b, class_b]
      })(offsets) as tf.Tensor4D[];
    } finally {
      for (const z of offsets) z.dispose();
    }
    return { logits: logits as unknown as tf.Tensor2D, attentions, gradients };
  }

  /** @internal Forward with additive offsets on the attention probabilities (finite-difference checks). */
  forwardWithAttentionOffsets(pixelValues: tf.Tensor4D, offsets: tf.Tensor4D[]): tf.Tensor2D {
    return this.forwardInternal(pixelValues, { attentionOffsets: offsets }).logits;
  }

  /** Parameters that get weight decay (not biases, LayerNorm weights, position embeddings, CLS token). */
  decayParamNames(): string[] {
    return paramSpecs(this.config).filter((s) => s.decay).map((s) => s.name);
  }

  /** Replace the classifier for a new label set, freshly initialised from `seed` (HF `_init_weights`). */
  replaceHead(id2label: Record<string, string>, seed: number | string = this.seed): void {
    if (this.disposed) throw new Error('ViTForImageClassification: used after dispose()');
    const labels = normalizeLabels('replaceHead(id2label)', id2label, undefined);
    const config: ViTConfig = { ...this.config, id2label: labels.id2label, label2id: labels.label2id };
    for (const spec of paramSpecs(config).filter((s) => s.name.startsWith('classifier.'))) {
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
