import { Rng, tf } from '@vitlens/core';
import { type ViTConfig, geometry, numLabels } from './config';
import { type Layout, architectureOf, layoutOf } from './layouts';

/** How HF `ViTPreTrainedModel._init_weights` initialises a parameter. */
export type InitKind = 'trunc_normal' | 'zeros' | 'ones';

export interface ParamSpec {
  /** The Hugging Face state-dict name. */
  name: string;
  /** The shape HF stores (Linear [out, in], patch projection [hidden, 3, p, p]). */
  shape: number[];
  init: InitKind;
  /** Whether AdamW-style weight decay applies (matrices, not biases/LayerNorm/embeddings). */
  decay: boolean;
}

/** The encoder layers' key prefix of ViTForImageClassification. */
export const LAYER_PREFIX = 'vit.encoder.layer.';

/** `vit.encoder.layer.` / `deit.encoder.layer.` / `encoder.layer.` (bare models). */
export function layerPrefix(layout: Layout): string {
  return `${layout.prefix}encoder.layer.`;
}

/**
 * Every parameter of a model in HF state-dict order, HF names and shapes; the layout (default: the
 * one `config.architectures` names) decides the prefix, the DeiT distillation token, the heads and the pooler.
 */
export function paramSpecs(config: ViTConfig, layout: Layout = layoutOf(architectureOf(config))): ParamSpec[] {
  const h = config.hidden_size;
  const p = config.patch_size;
  const { tokens } = geometry(config);
  const e = `${layout.prefix}embeddings.`;
  const specs: ParamSpec[] = [
    { name: `${e}cls_token`, shape: [1, 1, h], init: 'trunc_normal', decay: false },
    { name: `${e}position_embeddings`, shape: [1, tokens, h], init: 'trunc_normal', decay: false },
    ...(layout.modelType === 'deit' ? [{ name: `${e}distillation_token`, shape: [1, 1, h], init: 'trunc_normal' as const, decay: false }] : []),
    { name: `${e}patch_embeddings.projection.weight`, shape: [h, config.num_channels, p, p], init: 'trunc_normal', decay: true },
    { name: `${e}patch_embeddings.projection.bias`, shape: [h], init: 'zeros', decay: false },
  ];
  const linear = (name: string, out: number, inp: number, bias = true): void => {
    specs.push({ name: `${name}.weight`, shape: [out, inp], init: 'trunc_normal', decay: true });
    if (bias) specs.push({ name: `${name}.bias`, shape: [out], init: 'zeros', decay: false });
  };
  const norm = (name: string): void => {
    specs.push({ name: `${name}.weight`, shape: [h], init: 'ones', decay: false });
    specs.push({ name: `${name}.bias`, shape: [h], init: 'zeros', decay: false });
  };
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const l = `${layerPrefix(layout)}${i}`;
    linear(`${l}.attention.attention.query`, h, h, config.qkv_bias);
    linear(`${l}.attention.attention.key`, h, h, config.qkv_bias);
    linear(`${l}.attention.attention.value`, h, h, config.qkv_bias);
    linear(`${l}.attention.output.dense`, h, h);
    linear(`${l}.intermediate.dense`, config.intermediate_size, h);
    linear(`${l}.output.dense`, h, config.intermediate_size);
    norm(`${l}.layernorm_before`);
    norm(`${l}.layernorm_after`);
  }
  norm(`${layout.prefix}layernorm`);
  if (layout.pooler) linear(`${layout.prefix}pooler.dense`, config.pooler_output_size ?? h, h);
  for (const head of layout.heads) linear(head.name, numLabels(config), h);
  return specs;
}

/**
 * Initial values as HF: trunc_normal(0, initializer_range) truncated at ±2 (absolute, as
 * `nn.init.trunc_normal_`'s defaults) for weights, CLS token and position embeddings; zero biases;
 * LayerNorm ones/zeros. Each parameter draws from its own fork of the seed, so adding a layer or
 * replacing the head leaves the other parameters' values unchanged, on every backend.
 */
export function initialValue(spec: ParamSpec, config: ViTConfig, seed: number | string): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  if (spec.init === 'ones') values.fill(1);
  else if (spec.init === 'trunc_normal') {
    const std = config.initializer_range;
    new Rng(seed).fork(spec.name).fillTruncatedNormal(values, 0, std, 2 / std);
  }
  return values;
}

export function createVariable(values: Float32Array, shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true));
}
