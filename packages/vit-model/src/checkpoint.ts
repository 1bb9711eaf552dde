import { type SafetensorsTensor, readSafetensors, tensorToFloat32, writeSafetensors } from '@vitlens/core';
import {
  ConfigError,
  type ImageProcessorConfig,
  type ViTConfig,
  defaultProcessorConfig,
  normalizeLabels,
  parseConfig,
  parseProcessorConfig,
} from './config';
import { interpolatePositionEmbeddings } from './bicubic';
import { ViTForImageClassification } from './model';
import { initialValue, paramSpecs } from './params';

/** The three files of a Hugging Face checkpoint folder. */
export const CONFIG_FILE = 'config.json';
export const PROCESSOR_FILE = 'preprocessor_config.json';
export const WEIGHTS_FILE = 'model.safetensors';

/** A checkpoint that does not match the model its config describes; the message names the tensors. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export interface ModelFromFilesOptions {
  /** Replace the classifier for this label set (freshly initialised) unless the checkpoint has exactly these labels. */
  id2label?: Record<string, string>;
  /** Run at this image size: position embeddings are interpolated as HF `interpolate_pos_encoding`. */
  imageSize?: number;
  /** Seed for parameters initialised rather than loaded (a new head). */
  seed?: number | string;
}

/** Weights HF models carry that ViTForImageClassification does not use. */
const IGNORED = [/^vit\.pooler\./, /^vit\.embeddings\.mask_token$/];
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Map a state-dict key to ViTForImageClassification naming: `ViTModel` checkpoints store
 * `embeddings.…`, `encoder.…`, `layernorm.…`, `pooler.…` without the `vit.` prefix.
 */
function canonicalKey(key: string): string {
  return /^(embeddings|encoder|layernorm|pooler)\./.test(key) ? `vit.${key}` : key;
}

function list(names: string[], max = 20): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, … (${names.length - max} more)`;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/**
 * Build a model from the contents of a checkpoint folder (browser-safe): the parsed `config.json`,
 * the optional parsed `preprocessor_config.json`, and the `model.safetensors` bytes.
 * Loads ViTForImageClassification and ViTModel (headless, with or without `vit.`) checkpoints.
 */
export function modelFromFiles(
  files: { config: unknown; processor?: unknown; weights: Uint8Array; source?: string },
  opts: ModelFromFilesOptions = {},
): ViTForImageClassification {
  const where = files.source ? `${files.source}/` : '';
  const stored = parseConfig(files.config, `${where}${CONFIG_FILE}`);
  const processor =
    files.processor === undefined || files.processor === null
      ? defaultProcessorConfig(stored)
      : parseProcessorConfig(files.processor, stored, `${where}${PROCESSOR_FILE}`);
  const { tensors } = readSafetensors(files.weights, { source: `${where}${WEIGHTS_FILE}` });
  const weightsSource = `${where}${WEIGHTS_FILE}`;

  const byName = new Map<string, { key: string; tensor: SafetensorsTensor }>();
  const unexpected: string[] = [];
  for (const [key, tensor] of tensors) {
    const name = canonicalKey(key);
    if (IGNORED.some((re) => re.test(name))) continue;
    byName.set(name, { key, tensor });
  }
  const specs = paramSpecs(stored);
  const known = new Set(specs.map((s) => s.name));
  for (const [name, { key }] of byName) if (!known.has(name)) unexpected.push(key);
  const missing = specs.filter((s) => !byName.has(s.name)).map((s) => s.name);
  const headMissing = missing.filter((n) => n.startsWith('classifier.'));
  const bodyMissing = missing.filter((n) => !n.startsWith('classifier.'));
  if (bodyMissing.length > 0 || unexpected.length > 0 || headMissing.length === 1) {
    const parts: string[] = [];
    if (bodyMissing.length > 0 || headMissing.length === 1) parts.push(`missing keys: ${list([...bodyMissing, ...(headMissing.length === 1 ? headMissing : [])])}`);
    if (unexpected.length > 0) parts.push(`unexpected keys: ${list(unexpected)}`);
    throw new CheckpointError(
      `${weightsSource} does not match ${where}${CONFIG_FILE} (hidden_size ${stored.hidden_size}, ` +
        `${stored.num_hidden_layers} layers, qkv_bias ${stored.qkv_bias}): ${parts.join('; ')}`,
    );
  }

  // The label set: the caller's, else the checkpoint's.
  let config = stored;
  let replaceHead = headMissing.length > 0;
  if (opts.id2label !== undefined) {
    const labels = normalizeLabels('modelFromFiles({ id2label })', opts.id2label, undefined);
    if (!sameLabels(labels.id2label, stored.id2label)) replaceHead = true;
    config = { ...config, ...labels };
  }

  // The image size: interpolate position embeddings when it changes.
  let gridH = stored.image_size / stored.patch_size;
  if (opts.imageSize !== undefined && opts.imageSize !== stored.image_size) {
    if (!Number.isInteger(opts.imageSize) || opts.imageSize <= 0 || opts.imageSize % stored.patch_size !== 0) {
      throw new ConfigError(`modelFromFiles({ imageSize }): ${opts.imageSize} must be a positive multiple of patch_size ${stored.patch_size}`);
    }
    gridH = opts.imageSize / stored.patch_size;
    config = { ...config, image_size: opts.imageSize };
  }
  config = { ...config, architectures: ['ViTForImageClassification'] };

  const seed = opts.seed ?? 0;
  const values = new Map<string, Float32Array>();
  const initialised: string[] = [];
  for (const spec of specs) {
    const entry = byName.get(spec.name);
    if (spec.name.startsWith('classifier.') && replaceHead) continue;
    if (!entry) continue;
    const { key, tensor } = entry;
    if (!FLOAT_DTYPES.has(tensor.dtype)) {
      throw new CheckpointError(`${weightsSource}: tensor '${key}' has dtype ${tensor.dtype}; expected a float dtype (F32, F16, BF16 or F64)`);
    }
    if (tensor.shape.length !== spec.shape.length || tensor.shape.some((d: number, i: number) => d !== spec.shape[i])) {
      throw new CheckpointError(
        `${weightsSource}: tensor '${key}' has shape [${tensor.shape.join(', ')}], expected [${spec.shape.join(', ')}] from ${where}${CONFIG_FILE}`,
      );
    }
    let value = tensorToFloat32(tensor);
    if (spec.name === 'vit.embeddings.position_embeddings' && config.image_size !== stored.image_size) {
      value = interpolatePositionEmbeddings(value, stored.hidden_size, gridH, gridH); // [1, 1 + g'², hidden]
    }
    values.set(spec.name, value);
  }
  for (const spec of paramSpecs(config)) {
    if (!values.has(spec.name)) {
      values.set(spec.name, initialValue(spec, config, seed));
      initialised.push(spec.name);
    }
  }
  const model = ViTForImageClassification.fromValues(config, { ...processor, size: resizedSize(processor, stored, config) }, values, seed);
  model.initializedFromSeed = initialised;
  return model;
}

/** When the model runs at another size, the processor resizes to it. */
function resizedSize(processor: ImageProcessorConfig, stored: ViTConfig, config: ViTConfig): { height: number; width: number } {
  if (config.image_size === stored.image_size) return processor.size;
  return { height: config.image_size, width: config.image_size };
}

/**
 * The three files of a checkpoint folder in HF layout: `config.json`, `preprocessor_config.json`
 * and `model.safetensors` (float32, HF names and shapes, `format: pt` so `from_pretrained` accepts it).
 */
export function modelToFiles(model: ViTForImageClassification): { config: ViTConfig; processor: ImageProcessorConfig; weights: Uint8Array } {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, variable] of model.params) {
    tensors.set(name, { dtype: 'F32', shape: [...variable.shape], data: variable.dataSync() as Float32Array });
  }
  const config: ViTConfig = { ...model.config, architectures: ['ViTForImageClassification'] };
  return {
    config,
    processor: { ...model.processor },
    weights: writeSafetensors(tensors, { format: 'pt' }),
  };
}
