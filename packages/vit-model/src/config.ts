import type { PreprocessOptions } from '@vitlens/core';

/**
 * Hugging Face `ViTConfig` (and `DeiTConfig`, the same fields with `model_type: "deit"`), with its
 * field names, so `config.json` reads and writes as it is.
 */
export interface ViTConfig {
  /** 'vit': `[CLS, patches]`; 'deit': `[CLS, distillation, patches]`. */
  model_type: ModelType;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: 'gelu';
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  initializer_range: number;
  layer_norm_eps: number;
  image_size: number;
  patch_size: number;
  num_channels: number;
  qkv_bias: boolean;
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  architectures?: string[];
  /** The pooler's output width (HF default: hidden_size); read only by models with a pooler. */
  pooler_output_size?: number;
  /** The pooler's activation; HF's default and the only one HF checkpoints use is tanh. */
  pooler_act?: 'tanh';
}

export type ModelType = 'vit' | 'deit';
export const MODEL_TYPES: readonly ModelType[] = ['vit', 'deit'];

/**
 * The token grid of a model: `prefixTokens` special tokens (CLS; DeiT adds its distillation token)
 * before the `gridHeight × gridWidth` patches in row-major order.
 */
export interface Geometry {
  /** Patch rows: image_size / patch_size. */
  gridHeight: number;
  /** Patch columns: image_size / patch_size. */
  gridWidth: number;
  /** gridHeight·gridWidth. */
  numPatches: number;
  /** 1 (CLS) or 2 (DeiT: CLS, distillation). */
  prefixTokens: number;
  /** T = prefixTokens + numPatches: the sequence length. */
  tokens: number;
}

/**
 * The one place the token grid is derived: ViT-B/16 at 224 → 14×14 patches, 1 + 196 = 197 tokens;
 * DINO ViT-S/8 → 785; DeiT-B/16 → 198. `model_type` defaults to 'vit'.
 */
export function geometry(config: Pick<ViTConfig, 'image_size' | 'patch_size'> & { model_type?: ModelType | undefined }): Geometry {
  const prefixTokens = config.model_type === 'deit' ? 2 : 1;
  const gridHeight = config.image_size / config.patch_size;
  const gridWidth = gridHeight; // square images, as HF ViT/DeiT configs
  const numPatches = gridHeight * gridWidth;
  return { gridHeight, gridWidth, numPatches, prefixTokens, tokens: prefixTokens + numPatches };
}

/** @deprecated Use `Geometry`. */
export type TokenLayout = Geometry;
/** @deprecated Use `geometry(config)`. */
export const tokenLayout = geometry;

/** Hugging Face `ViTImageProcessor` / `DeiTImageProcessor` fields (`preprocessor_config.json`). */
export interface ImageProcessorConfig {
  image_processor_type: 'ViTImageProcessor' | 'DeiTImageProcessor';
  do_resize: boolean;
  size: { height: number; width: number };
  /** PIL resampling filter id (2 = bilinear, HF's default for ViT). */
  resample: number;
  do_rescale: boolean;
  rescale_factor: number;
  do_normalize: boolean;
  image_mean: [number, number, number];
  image_std: [number, number, number];
  /** DeiT: crop the centre `crop_size` after resizing (DeiT's 256 → 224). */
  do_center_crop?: boolean;
  crop_size?: { height: number; width: number };
}

export const CIFAR10_CLASS_NAMES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
] as const;

function labelsFromNames(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name, i) => [String(i), name]));
}

function genericLabels(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [String(i), `LABEL_${i}`]));
}

/** HF `ViTConfig()` defaults: fields a `config.json` may omit take these values. */
const HF_DEFAULTS = {
  model_type: 'vit',
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  // HF defaults to no dropout; CIFAR recipes usually regularise through augmentation instead.
  hidden_dropout_prob: 0,
  attention_probs_dropout_prob: 0,
  initializer_range: 0.02,
  // 1e-12 as in every HF ViT config (the original JAX code's LayerNorm epsilon was 1e-6).
  layer_norm_eps: 1e-12,
  image_size: 224,
  patch_size: 16,
  num_channels: 3,
  qkv_bias: true,
} as const;

type Shape = Pick<ViTConfig, 'hidden_size' | 'num_hidden_layers' | 'num_attention_heads' | 'intermediate_size' | 'image_size' | 'patch_size'>;

/** Presets are small records over one config type (as timm's model factories). */
const PRESETS: Record<string, Shape & { labels: Record<string, string> }> = {
  // google/vit-base-patch16-224: 86M parameters, ImageNet-1k head.
  'vit-base-patch16-224': {
    hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072,
    image_size: 224, patch_size: 16, labels: genericLabels(1000),
  },
  // CIFAR-native ViT-Tiny: 64 patches of 4×4 + CLS, 5.4M parameters, 0.73 GFLOP per image.
  'vit-tiny-patch4-32': {
    hidden_size: 192, num_hidden_layers: 12, num_attention_heads: 3, intermediate_size: 768,
    image_size: 32, patch_size: 4, labels: labelsFromNames(CIFAR10_CLASS_NAMES),
  },
  // The fast CPU preset: 1.2M parameters, trains in reasonable time on a couple of cores.
  'vit-mini-patch4-32': {
    hidden_size: 128, num_hidden_layers: 6, num_attention_heads: 4, intermediate_size: 512,
    image_size: 32, patch_size: 4, labels: labelsFromNames(CIFAR10_CLASS_NAMES),
  },
  // Compact Transformers' ViT-Lite-6/4 (hidden 256, MLP ratio 2): 3.2M parameters, about half
  // vit-mini's images/s; the shape of the shipped model (91% on CIFAR-10 in 300 epochs in the paper).
  'vit-lite-patch4-32': {
    hidden_size: 256, num_hidden_layers: 6, num_attention_heads: 4, intermediate_size: 512,
    image_size: 32, patch_size: 4, labels: labelsFromNames(CIFAR10_CLASS_NAMES),
  },
};

export const PRESET_NAMES: readonly string[] = Object.freeze(Object.keys(PRESETS));

/** Thrown for an invalid configuration; the message names the source, the field and what is valid. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field<T>(raw: Record<string, unknown>, key: string, fallback: T): unknown {
  return raw[key] === undefined || raw[key] === null ? fallback : raw[key];
}

function positiveInteger(source: string, raw: Record<string, unknown>, key: keyof typeof HF_DEFAULTS): number {
  const value = field(raw, key, HF_DEFAULTS[key]);
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${source}: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function probability(source: string, raw: Record<string, unknown>, key: keyof typeof HF_DEFAULTS): number {
  const value = field(raw, key, HF_DEFAULTS[key]);
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ConfigError(`${source}: ${key} must be a number in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

function positiveNumber(source: string, raw: Record<string, unknown>, key: keyof typeof HF_DEFAULTS): number {
  const value = field(raw, key, HF_DEFAULTS[key]);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${source}: ${key} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Check `id2label` (keys "0".."n-1", string values) and `label2id` (its inverse); a missing
 * `label2id` is derived.
 */
export function normalizeLabels(
  source: string,
  id2labelRaw: unknown,
  label2idRaw: unknown,
): { id2label: Record<string, string>; label2id: Record<string, number> } {
  if (!isRecord(id2labelRaw)) {
    throw new ConfigError(`${source}: id2label must be an object like {"0": "cat", "1": "dog"}, got ${JSON.stringify(id2labelRaw)}`);
  }
  const keys = Object.keys(id2labelRaw);
  if (keys.length === 0) throw new ConfigError(`${source}: id2label is empty; a classifier needs at least one label`);
  const id2label: Record<string, string> = {};
  for (let i = 0; i < keys.length; i++) {
    const name = id2labelRaw[String(i)];
    if (typeof name !== 'string') {
      throw new ConfigError(
        `${source}: id2label must have keys "0".."${keys.length - 1}" with string values; ` +
          `key "${i}" is ${name === undefined ? 'missing' : `${JSON.stringify(name)}`} (keys: ${keys.slice(0, 10).join(', ')}${keys.length > 10 ? ', …' : ''})`,
      );
    }
    id2label[String(i)] = name;
  }
  const label2id: Record<string, number> = {};
  for (const [id, name] of Object.entries(id2label)) label2id[name] = Number(id);
  if (label2idRaw !== undefined && label2idRaw !== null) {
    if (!isRecord(label2idRaw)) throw new ConfigError(`${source}: label2id must be an object, got ${JSON.stringify(label2idRaw)}`);
    for (const [name, id] of Object.entries(label2idRaw)) {
      if (id2label[String(id)] !== name) {
        throw new ConfigError(
          `${source}: label2id["${name}"] = ${JSON.stringify(id)} disagrees with id2label[${JSON.stringify(String(id))}] = ${JSON.stringify(id2label[String(id)])}`,
        );
      }
    }
  }
  return { id2label, label2id };
}

/**
 * Validate a parsed `config.json` (or any object) as a ViT config; HF defaults fill omitted
 * fields. `source` (a file name) starts every error message.
 */
export function parseConfig(raw: unknown, source = 'config'): ViTConfig {
  if (!isRecord(raw)) throw new ConfigError(`${source}: expected a JSON object, got ${JSON.stringify(raw)}`);
  const modelType = field(raw, 'model_type', 'vit');
  if (!MODEL_TYPES.includes(modelType as ModelType)) {
    throw new ConfigError(`${source}: model_type must be one of ${MODEL_TYPES.map((t) => `"${t}"`).join(', ')}, got ${JSON.stringify(modelType)}`);
  }
  const hiddenAct = field(raw, 'hidden_act', 'gelu');
  if (hiddenAct !== 'gelu') {
    throw new ConfigError(`${source}: hidden_act must be "gelu" (exact erf GELU), got ${JSON.stringify(hiddenAct)}`);
  }
  const hidden = positiveInteger(source, raw, 'hidden_size');
  const heads = positiveInteger(source, raw, 'num_attention_heads');
  if (hidden % heads !== 0) {
    throw new ConfigError(
      `${source}: hidden_size ${hidden} is not divisible by num_attention_heads ${heads}; ` +
        `choose heads among ${divisors(hidden).join(', ')}`,
    );
  }
  const imageSize = positiveInteger(source, raw, 'image_size');
  const patch = positiveInteger(source, raw, 'patch_size');
  if (imageSize % patch !== 0) {
    throw new ConfigError(
      `${source}: image_size ${imageSize} is not divisible by patch_size ${patch}; ` +
        `valid patch sizes are ${divisors(imageSize).join(', ')}`,
    );
  }
  const channels = positiveInteger(source, raw, 'num_channels');
  if (channels !== 3) throw new ConfigError(`${source}: num_channels must be 3 (RGB), got ${channels}`);
  const qkvBias = field(raw, 'qkv_bias', true);
  if (typeof qkvBias !== 'boolean') throw new ConfigError(`${source}: qkv_bias must be true or false, got ${JSON.stringify(qkvBias)}`);
  // HF's `num_labels` (when written out) sizes generic labels and must agree with id2label.
  const numLabels = raw.num_labels ?? undefined;
  if (numLabels !== undefined && !(typeof numLabels === 'number' && Number.isInteger(numLabels) && numLabels > 0)) {
    throw new ConfigError(`${source}: num_labels must be a positive integer, got ${JSON.stringify(numLabels)}`);
  }
  const labels = normalizeLabels(source, field(raw, 'id2label', genericLabels((numLabels as number | undefined) ?? 2)), raw.label2id);
  if (numLabels !== undefined && Object.keys(labels.id2label).length !== numLabels) {
    throw new ConfigError(`${source}: num_labels is ${numLabels} but id2label has ${Object.keys(labels.id2label).length} labels`);
  }
  const config: ViTConfig = {
    model_type: modelType as ModelType,
    hidden_size: hidden,
    num_hidden_layers: positiveInteger(source, raw, 'num_hidden_layers'),
    num_attention_heads: heads,
    intermediate_size: positiveInteger(source, raw, 'intermediate_size'),
    hidden_act: 'gelu',
    hidden_dropout_prob: probability(source, raw, 'hidden_dropout_prob'),
    attention_probs_dropout_prob: probability(source, raw, 'attention_probs_dropout_prob'),
    initializer_range: positiveNumber(source, raw, 'initializer_range'),
    layer_norm_eps: positiveNumber(source, raw, 'layer_norm_eps'),
    image_size: imageSize,
    patch_size: patch,
    num_channels: channels,
    qkv_bias: qkvBias,
    id2label: labels.id2label,
    label2id: labels.label2id,
  };
  if (raw.architectures !== undefined) {
    if (!Array.isArray(raw.architectures) || raw.architectures.some((a) => typeof a !== 'string')) {
      throw new ConfigError(`${source}: architectures must be a list of strings, got ${JSON.stringify(raw.architectures)}`);
    }
    config.architectures = [...(raw.architectures as string[])];
  }
  if (raw.pooler_output_size !== undefined && raw.pooler_output_size !== null) {
    const size = raw.pooler_output_size;
    if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0) {
      throw new ConfigError(`${source}: pooler_output_size must be a positive integer, got ${JSON.stringify(size)}`);
    }
    config.pooler_output_size = size;
  }
  if (raw.pooler_act !== undefined && raw.pooler_act !== null) {
    if (raw.pooler_act !== 'tanh') throw new ConfigError(`${source}: pooler_act must be "tanh", got ${JSON.stringify(raw.pooler_act)}`);
    config.pooler_act = 'tanh';
  }
  return config;
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/**
 * A validated config from a preset and overrides, e.g.
 * `createConfig('vit-tiny-patch4-32', { hidden_dropout_prob: 0.1 })`.
 * Overriding `id2label` alone derives `label2id`.
 */
export function createConfig(preset: string, overrides: Partial<ViTConfig> = {}): ViTConfig {
  const base = PRESETS[preset];
  if (!base) throw new ConfigError(`createConfig: unknown preset '${preset}'; valid presets are ${PRESET_NAMES.join(', ')}`);
  const { labels, ...shape } = base;
  const raw: Record<string, unknown> = { ...HF_DEFAULTS, ...shape, id2label: labels, architectures: ['ViTForImageClassification'], ...overrides };
  if (overrides.id2label !== undefined && overrides.label2id === undefined) delete raw.label2id;
  return parseConfig(raw, `createConfig('${preset}')`);
}

/** `id2label` in index order. */
export function classNames(config: ViTConfig): string[] {
  const count = Object.keys(config.id2label).length;
  return Array.from({ length: count }, (_, i) => config.id2label[String(i)] as string);
}

export function numLabels(config: ViTConfig): number {
  return Object.keys(config.id2label).length;
}

/** HF `ViTImageProcessor` defaults for this model: resize to image_size, 1/255, mean/std 0.5. */
export function defaultProcessorConfig(config: ViTConfig): ImageProcessorConfig {
  return {
    image_processor_type: 'ViTImageProcessor',
    do_resize: true,
    size: { height: config.image_size, width: config.image_size },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  };
}

function triple(source: string, key: string, value: unknown): [number, number, number] {
  if (typeof value === 'number' && Number.isFinite(value)) return [value, value, value];
  if (!Array.isArray(value) || value.length !== 3 || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new ConfigError(`${source}: ${key} must be three numbers (R, G, B), got ${JSON.stringify(value)}`);
  }
  return [value[0], value[1], value[2]];
}

function bool(source: string, raw: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = field(raw, key, fallback);
  if (typeof value !== 'boolean') throw new ConfigError(`${source}: ${key} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * HF `DeiTImageProcessor` defaults: resize to 256×256 (bicubic), crop the centre 224×224, ImageNet
 * mean/std. The sizes scale with the model (crop = image_size, resize = image_size·256/224).
 */
function deitProcessorDefaults(config: ViTConfig): ImageProcessorConfig {
  const resize = Math.round((config.image_size * 256) / 224);
  return {
    image_processor_type: 'DeiTImageProcessor',
    do_resize: true,
    size: { height: resize, width: resize },
    resample: 3,
    do_center_crop: true,
    crop_size: { height: config.image_size, width: config.image_size },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
  };
}

const VIT_PROCESSOR_TYPES = ['ViTImageProcessor', 'ViTFeatureExtractor'];
const DEIT_PROCESSOR_TYPES = ['DeiTImageProcessor', 'DeiTFeatureExtractor'];

/** `size` / `crop_size`: one number (a square) or `{height, width}`. */
function sizeField(source: string, key: string, value: unknown, fallback: { height: number; width: number }): { height: number; width: number } {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return { height: value, width: value };
  if (isRecord(value) && Number.isInteger(value.height) && Number.isInteger(value.width) && (value.height as number) > 0 && (value.width as number) > 0) {
    return { height: value.height as number, width: value.width as number };
  }
  throw new ConfigError(`${source}: ${key} must be {"height": h, "width": w} with positive integers, got ${JSON.stringify(value)}`);
}

/**
 * Validate a parsed `preprocessor_config.json`. Accepts HF `ViTImageProcessor` and `DeiTImageProcessor`
 * files (and their older `…FeatureExtractor` names) and `size` given as one number; that
 * processor's HF defaults fill omitted fields.
 */
export function parseProcessorConfig(raw: unknown, config: ViTConfig, source = 'preprocessor_config'): ImageProcessorConfig {
  if (!isRecord(raw)) throw new ConfigError(`${source}: expected a JSON object, got ${JSON.stringify(raw)}`);
  const type = raw.image_processor_type ?? raw.feature_extractor_type;
  if (type !== undefined && !VIT_PROCESSOR_TYPES.includes(type as string) && !DEIT_PROCESSOR_TYPES.includes(type as string)) {
    throw new ConfigError(`${source}: image_processor_type must be "ViTImageProcessor" or "DeiTImageProcessor", got ${JSON.stringify(type)}`);
  }
  const deit = DEIT_PROCESSOR_TYPES.includes(type as string);
  const defaults = deit ? deitProcessorDefaults(config) : defaultProcessorConfig(config);
  const size = sizeField(source, 'size', raw.size, defaults.size);
  const resample = field(raw, 'resample', defaults.resample);
  if (typeof resample !== 'number' || !Number.isInteger(resample) || resample < 0 || resample > 5) {
    throw new ConfigError(`${source}: resample must be a PIL filter id 0..5 (2 = bilinear), got ${JSON.stringify(resample)}`);
  }
  const rescale = field(raw, 'rescale_factor', defaults.rescale_factor);
  if (typeof rescale !== 'number' || !Number.isFinite(rescale) || rescale <= 0) {
    throw new ConfigError(`${source}: rescale_factor must be a positive number, got ${JSON.stringify(rescale)}`);
  }
  const std = triple(source, 'image_std', field(raw, 'image_std', defaults.image_std));
  if (std.some((s) => s <= 0)) throw new ConfigError(`${source}: image_std must be positive, got ${JSON.stringify(std)}`);
  const processor: ImageProcessorConfig = {
    image_processor_type: deit ? 'DeiTImageProcessor' : 'ViTImageProcessor',
    do_resize: bool(source, raw, 'do_resize', defaults.do_resize),
    size,
    resample,
    do_rescale: bool(source, raw, 'do_rescale', defaults.do_rescale),
    rescale_factor: rescale,
    do_normalize: bool(source, raw, 'do_normalize', defaults.do_normalize),
    image_mean: triple(source, 'image_mean', field(raw, 'image_mean', defaults.image_mean)),
    image_std: std,
  };
  const crop = bool(source, raw, 'do_center_crop', defaults.do_center_crop ?? false);
  if (crop || raw.crop_size !== undefined) {
    processor.do_center_crop = crop;
    processor.crop_size = sizeField(source, 'crop_size', raw.crop_size, defaults.crop_size ?? size);
  }
  return processor;
}

/**
 * The options for core's `pixelsToTensor` that preprocess exactly as the processor config says
 * (resize, centre crop, rescale, normalise, in HF's order).
 * Resizing is bilinear (half-pixel centres); a `resample` other than 2 (DeiT's 3, bicubic) is approximated by it.
 */
export function processorToPreprocessOptions(p: ImageProcessorConfig): PreprocessOptions {
  const options: PreprocessOptions = {};
  if (p.do_resize) options.resize = { height: p.size.height, width: p.size.width };
  if (p.do_center_crop && p.crop_size) options.centerCrop = { height: p.crop_size.height, width: p.crop_size.width };
  if (p.do_rescale) options.rescaleFactor = p.rescale_factor;
  if (p.do_normalize) {
    options.mean = [...p.image_mean] as [number, number, number];
    options.std = [...p.image_std] as [number, number, number];
  }
  return options;
}
