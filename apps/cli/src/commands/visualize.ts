import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  COLORMAP_NAMES,
  type ColormapName,
  HEAD_FUSIONS,
  type HeadFusion,
  MAP_METHODS,
  type MapMethod,
} from '@vitlens/attention-viz';
import { type VisualizationFile, writeVisualization } from '@vitlens/attention-viz/node';
import { initBackend, tf } from '@vitlens/core';
import { type ViTForImageClassification, classNames } from '@vitlens/vit-model';
import { listImageFiles, readImage } from '../images';
import { backendOption, nonNegativeInt } from './options';
import { imageToInput, openCheckpoint, softmax } from './predict';

export interface VisualizeOptions {
  methods: readonly MapMethod[];
  /** Layers for the CLS maps; undefined = all. */
  layers?: readonly number[];
  fusion: HeadFusion;
  head?: number;
  discardRatio: number;
  colormap: ColormapName;
  alpha: number;
  /** Class the gradient map explains (default: the predicted class). */
  className?: string;
  out: string;
}

export interface ImageVisualization {
  image: string;
  outDir: string;
  predicted: { label: string; index: number; probability: number };
  /** The class the gradient map explains. */
  explained: { label: string; index: number };
  files: VisualizationFile[];
}

/** `--layers all|0,6,11` → undefined (all) or the list. */
export function parseLayers(value: string): number[] | 'all' {
  if (value.trim() === 'all') return 'all';
  const parts = value.split(',').map((s) => s.trim());
  const layers = parts.map(Number);
  if (parts.some((p) => p === '') || layers.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new InvalidArgumentError(`--layers expects 'all' or comma-separated layer indices ≥ 0 such as 0,6,11, got '${value}'`);
  }
  return [...new Set(layers)];
}

function parseFraction(flag: string, max: number, inclusive: boolean): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !(n >= 0 && (inclusive ? n <= max : n < max))) {
      throw new InvalidArgumentError(`${flag} expects a number in [0, ${max}${inclusive ? ']' : ')'}, got '${value}'`);
    }
    return n;
  };
}

/** Output folder names: the file's base name, made unique with its parent folder (cat/0001.jpg → cat-0001). */
export function outputNames(files: readonly string[]): string[] {
  const base = files.map((f) => path.basename(f, path.extname(f)));
  const counts = new Map<string, number>();
  for (const b of base) counts.set(b, (counts.get(b) ?? 0) + 1);
  // Images from several folders (e.g. one per class) are all named <folder>-<file>, so the output
  // names stay uniform; a single folder keeps the bare file names.
  const folders = new Set(files.map((f) => path.dirname(path.resolve(f))));
  const used = new Set<string>();
  return files.map((f, i) => {
    let name = base[i] as string;
    if (folders.size > 1 || (counts.get(name) ?? 0) > 1) name = `${path.basename(path.dirname(path.resolve(f)))}-${name}`;
    let unique = name;
    for (let k = 2; used.has(unique); k++) unique = `${name}-${k}`;
    used.add(unique);
    return unique;
  });
}

/** Copy one image's `[1, heads, T, T]` tensors out as Float32Arrays `[heads, T, T]`. */
async function perLayer(tensors: readonly tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
}

/**
 * Attention maps for image files: per image a folder under `options.out` with the input, an
 * overlay per layer, rollout, gradient, the labelled figure and maps.json. No tensors outlive the call.
 */
export async function visualizeImages(
  model: ViTForImageClassification,
  files: readonly string[],
  options: VisualizeOptions,
): Promise<ImageVisualization[]> {
  const c = model.config;
  const labels = classNames(c);
  const grid = c.image_size / c.patch_size;
  if (options.layers) {
    for (const l of options.layers) {
      if (l >= c.num_hidden_layers) throw new Error(`--layers ${l}: the model has layers 0..${c.num_hidden_layers - 1}`);
    }
  }
  if (options.head !== undefined && options.head >= c.num_attention_heads) {
    throw new Error(`--head ${options.head}: the model has heads 0..${c.num_attention_heads - 1}`);
  }
  let classIndex: number | undefined;
  if (options.className !== undefined) {
    const found = labels.indexOf(options.className);
    if (found < 0) throw new Error(`--class '${options.className}' is not a class of this model; its classes are: ${labels.join(', ')}`);
    classIndex = found;
  }
  const wantGradient = options.methods.includes('gradient');
  const names = outputNames(files);
  const results: ImageVisualization[] = [];
  for (const [i, file] of files.entries()) {
    const image = await readImage(file);
    const input = imageToInput(image, model); // [1, H, W, 3]
    let logits: tf.Tensor2D;
    let attentions: tf.Tensor4D[];
    let gradients: tf.Tensor4D[] = [];
    try {
      if (wantGradient) {
        ({ logits, attentions, gradients } = model.attentionGradients(input, classIndex));
      } else {
        const out = model.forward(input, { outputAttentions: true });
        logits = out.logits;
        attentions = out.attentions ?? [];
      }
    } finally {
      input.dispose();
    }
    let layerValues: Float32Array[];
    let gradientValues: Float32Array[];
    let logitValues: Float32Array;
    try {
      layerValues = await perLayer(attentions);
      gradientValues = await perLayer(gradients);
      logitValues = (await logits.data()) as Float32Array;
    } finally {
      tf.dispose([logits, ...attentions, ...gradients]);
    }
    const probs = softmax(logitValues);
    const predictedIndex = probs.indexOf(Math.max(...probs));
    const predicted = { label: labels[predictedIndex] as string, index: predictedIndex, probability: probs[predictedIndex] as number };
    const explainedIndex = classIndex ?? predictedIndex;
    const explained = { label: labels[explainedIndex] as string, index: explainedIndex };
    const outDir = path.join(options.out, names[i] as string);
    const fusionText = options.head !== undefined ? `head ${options.head}` : `heads: ${options.fusion}`;
    const { files: written } = await writeVisualization({
      image,
      attention: {
        heads: c.num_attention_heads,
        gridHeight: grid,
        gridWidth: grid,
        layers: layerValues,
        ...(wantGradient ? { gradients: gradientValues } : {}),
      },
      outDir,
      methods: options.methods,
      ...(options.layers ? { layers: options.layers } : {}),
      fusion: options.fusion,
      ...(options.head !== undefined ? { head: options.head } : {}),
      discardRatio: options.discardRatio,
      colormap: options.colormap,
      alpha: options.alpha,
      title: `${path.basename(file)}: predicted ${predicted.label} (${(predicted.probability * 100).toFixed(1)}%)`,
      subtitle:
        `${fusionText}; colormap ${options.colormap}; alpha ${options.alpha}` +
        (wantGradient ? `; gradient map for class '${explained.label}'` : ''),
    });
    results.push({ image: file, outDir, predicted, explained, files: written });
  }
  return results;
}

interface VisualizeCliOptions {
  checkpoint?: string;
  image: string[];
  method: 'all' | MapMethod;
  layers: number[] | 'all';
  headFusion: HeadFusion;
  head?: number;
  discardRatio: number;
  colormap: ColormapName;
  class?: string;
  alpha: number;
  out: string;
  backend?: string;
}

export function registerVisualize(program: Command): void {
  program
    .command('visualize')
    .description('attention maps (CLS per layer, rollout, gradient-weighted) as PNG overlays and a labelled figure per image')
    .option('--checkpoint <dir>', 'checkpoint folder, https URL or Hub id (default: the shipped model at <repo>/models/default)')
    .requiredOption('--image <file|dir...>', 'image files (JPEG/PNG, any size) or folders of images')
    .addOption(new Option('--method <method>', 'which maps').choices(['all', ...MAP_METHODS]).default('all'))
    .option('--layers <list>', "layers for the CLS maps: 'all' or indices such as 0,6,11", parseLayers, 'all')
    .addOption(new Option('--head-fusion <fusion>', 'how heads are combined').choices([...HEAD_FUSIONS]).default('mean'))
    .option('--head <n>', 'one head alone instead of fusing', nonNegativeInt('--head'))
    .option('--discard-ratio <r>', "rollout: drop this fraction of the lowest attentions (vit-explain's discard_ratio)", parseFraction('--discard-ratio', 1, false), 0)
    .addOption(new Option('--colormap <name>', 'colormap').choices([...COLORMAP_NAMES]).default('viridis'))
    .option('--class <name>', 'class the gradient map explains (default: the predicted class)')
    .option('--alpha <a>', 'heatmap weight over the image', parseFraction('--alpha', 1, true), 0.5)
    .option('--out <dir>', 'output folder', 'results/visualizations')
    .addOption(backendOption())
    .action(async (opts: VisualizeCliOptions) => {
      await initBackend({ prefer: opts.backend as never });
      const files = await listImageFiles(opts.image);
      const model = await openCheckpoint(opts.checkpoint);
      try {
        const results = await visualizeImages(model, files, {
          methods: opts.method === 'all' ? MAP_METHODS : [opts.method],
          ...(opts.layers !== 'all' ? { layers: opts.layers } : {}),
          fusion: opts.headFusion,
          ...(opts.head !== undefined ? { head: opts.head } : {}),
          discardRatio: opts.discardRatio,
          colormap: opts.colormap,
          alpha: opts.alpha,
          ...(opts.class !== undefined ? { className: opts.class } : {}),
          out: opts.out,
        });
        for (const r of results) {
          const figure = r.files.find((f) => f.kind === 'figure')?.path ?? '';
          process.stdout.write(
            `${r.image}: predicted ${r.predicted.label} (${(r.predicted.probability * 100).toFixed(1)}%); ${r.files.length} files in ${r.outDir} (figure: ${figure})\n`,
          );
        }
      } finally {
        model.dispose();
      }
    });
}
