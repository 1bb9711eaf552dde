import { type SafetensorsTensor, readSafetensors, tensorToFloat32, writeSafetensors } from '@vitlens/core';
import {
  ConfigError,
  type ImageProcessorConfig,
  type ViTConfig,
  defaultProcessorConfig,
  geometry,
  normalizeLabels,
  parseConfig,
  parseProcessorConfig,
} from './config';
import { interpolatePositionEmbeddings } from './bicubic';
import { type Architecture, architectureOf, classifierOf, isArchitecture, layoutOf } from './layouts';
import { VisionTransformer } from './model';
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

/** Where the encoder's keys start in each layout: `vit.`/`deit.` for the classifiers, nothing for the bare models. */
const ENCODER_KEY = /^(?:(vit|deit)\.)?((?:embeddings|encoder|layernorm|pooler)\..*)$/;
/** Weights HF checkpoints may carry that no vitlens model uses (SimMIM's mask token). */
const IGNORED = /^embeddings\.mask_token$/;
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** A state-dict key without its layout's encoder prefix: `vit.encoder.layer.0…` → `encoder.layer.0…`. */
function relativeKey(key: string): string {
  const m = ENCODER_KEY.exec(key);
  return m ? (m[2] as string) : key;
}

function list(names: string[], max = 20): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, … (${names.length - max} more)`;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/**
 * The architecture of a checkpoint: the one its config's `architectures` names, else what its
 * keys show (`cls_classifier` → DeiT with teacher; `classifier` → the family's classifier; no
 * head → the bare model).
 */
function checkpointArchitecture(config: ViTConfig, keys: readonly string[], source: string): Architecture {
  if (config.architectures?.some(isArchitecture)) return architectureOf(config, source);
  const deit = config.model_type === 'deit';
  if (deit && keys.includes('cls_classifier.weight')) return 'DeiTForImageClassificationWithTeacher';
  if (keys.includes('classifier.weight')) return deit ? 'DeiTForImageClassification' : 'ViTForImageClassification';
  return deit ? 'DeiTModel' : 'ViTModel';
}

/**
 * Build a model from the contents of a checkpoint folder (browser-safe): the parsed `config.json`,
 * the optional parsed `preprocessor_config.json`, and the `model.safetensors` bytes.
 * Loads the Hugging Face layouts of ViTForImageClassification, ViTModel (e.g. DINO; keys with or
 * without `vit.`, with or without a pooler), DeiTForImageClassification,
 * DeiTForImageClassificationWithTeacher and DeiTModel, as the instance of that class; `modelToFiles`
 * writes the same layout back. With `id2label`, a bare model gets its family's classifier (a new head).
 */
export function modelFromFiles(
  files: { config: unknown; processor?: unknown; weights: Uint8Array; source?: string },
  opts: ModelFromFilesOptions = {},
): VisionTransformer {
  const where = files.source ? `${files.source}/` : '';
  const stored = parseConfig(files.config, `${where}${CONFIG_FILE}`);
  const processor =
    files.processor === undefined || files.processor === null
      ? defaultProcessorConfig(stored)
      : parseProcessorConfig(files.processor, stored, `${where}${PROCESSOR_FILE}`);
  const { tensors } = readSafetensors(files.weights, { source: `${where}${WEIGHTS_FILE}` });
  const weightsSource = `${where}${WEIGHTS_FILE}`;

  const byName = new Map<string, { key: string; tensor: SafetensorsTensor }>(); // keyed by relativeKey
  for (const [key, tensor] of tensors) {
    const name = relativeKey(key);
    if (!IGNORED.test(name)) byName.set(name, { key, tensor });
  }
  let architecture = checkpointArchitecture(stored, [...tensors.keys()], `${where}${CONFIG_FILE}`);
  // A bare encoder given labels becomes its family's classifier, with a new head (fine-tuning a backbone).
  if (opts.id2label !== undefined) architecture = classifierOf(architecture);
  const layout = layoutOf(architecture, byName.has('pooler.dense.weight'));
  const relative = (name: string): string => (layout.prefix !== '' && name.startsWith(layout.prefix) ? name.slice(layout.prefix.length) : name);
  const isHead = (name: string): boolean => layout.heads.some((h) => name.startsWith(`${h.name}.`));
  const specs = paramSpecs(stored, layout);
  const known = new Set(specs.map((s) => relative(s.name)));
  const unexpected: string[] = [];
  for (const [name, { key }] of byName) {
    if (known.has(name)) continue;
    if (!layout.pooler && name.startsWith('pooler.')) continue; // a backbone's pooler, unused by a classifier
    unexpected.push(key);
  }
  const missing = specs.filter((s) => !byName.has(relative(s.name))).map((s) => s.name);
  const headMissing = missing.filter(isHead);
  const headParams = specs.filter((s) => isHead(s.name)).length;
  const bodyMissing = missing.filter((n) => !isHead(n));
  const partialHead = headMissing.length > 0 && headMissing.length < headParams;
  if (bodyMissing.length > 0 || unexpected.length > 0 || partialHead) {
    const parts: string[] = [];
    if (bodyMissing.length > 0 || partialHead) parts.push(`missing keys: ${list([...bodyMissing, ...(partialHead ? headMissing : [])])}`);
    if (unexpected.length > 0) parts.push(`unexpected keys: ${list(unexpected)}`);
    throw new CheckpointError(
      `${weightsSource} does not match ${where}${CONFIG_FILE} (${architecture}, hidden_size ${stored.hidden_size}, ` +
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
  if (opts.imageSize !== undefined && opts.imageSize !== stored.image_size) {
    if (!Number.isInteger(opts.imageSize) || opts.imageSize <= 0 || opts.imageSize % stored.patch_size !== 0) {
      throw new ConfigError(`modelFromFiles({ imageSize }): ${opts.imageSize} must be a positive multiple of patch_size ${stored.patch_size}`);
    }
    config = { ...config, image_size: opts.imageSize };
  }
  const target = geometry(config);

  const seed = opts.seed ?? 0;
  const values = new Map<string, Float32Array>();
  const initialised: string[] = [];
  for (const spec of specs) {
    const entry = byName.get(relative(spec.name));
    if (isHead(spec.name) && replaceHead) continue;
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
    if (relative(spec.name) === 'embeddings.position_embeddings' && config.image_size !== stored.image_size) {
      value = interpolatePositionEmbeddings(value, stored.hidden_size, target.gridHeight, target.gridWidth, target.prefixTokens); // [1, prefix + g'², hidden]
    }
    values.set(spec.name, value);
  }
  for (const spec of paramSpecs(config, layout)) {
    if (!values.has(spec.name)) {
      values.set(spec.name, initialValue(spec, config, seed));
      initialised.push(spec.name);
    }
  }
  const model = VisionTransformer.fromValues(config, layout, resizedProcessor(processor, stored, config), values, seed);
  model.initializedFromSeed = initialised;
  return model;
}

/**
 * When the model runs at another size, the processor resizes to it; a centre crop (DeiT) crops to
 * it from a resize that keeps the checkpoint's resize/crop ratio (256/224).
 */
function resizedProcessor(processor: ImageProcessorConfig, stored: ViTConfig, config: ViTConfig): ImageProcessorConfig {
  if (config.image_size === stored.image_size) return processor;
  const size = config.image_size;
  if (processor.do_center_crop && processor.crop_size) {
    const scale = (n: number, crop: number): number => Math.max(size, Math.round((size * n) / crop));
    return {
      ...processor,
      size: { height: scale(processor.size.height, processor.crop_size.height), width: scale(processor.size.width, processor.crop_size.width) },
      crop_size: { height: size, width: size },
    };
  }
  return { ...processor, size: { height: size, width: size } };
}

/**
 * The three files of a checkpoint folder in HF layout: `config.json`, `preprocessor_config.json`
 * and `model.safetensors` (float32, HF names and shapes, `format: pt` so `from_pretrained` accepts it),
 * in the model's own layout (a DINO `ViTModel` saves bare keys and its pooler; a DeiT saves `deit.…`).
 */
export function modelToFiles(model: VisionTransformer): { config: ViTConfig; processor: ImageProcessorConfig; weights: Uint8Array } {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, variable] of model.params) {
    tensors.set(name, { dtype: 'F32', shape: [...variable.shape], data: variable.dataSync() as Float32Array });
  }
  const config: ViTConfig = { ...model.config, architectures: [model.architecture] };
  return {
    config,
    processor: { ...model.processor },
    weights: writeSafetensors(tensors, { format: 'pt' }),
  };
}
