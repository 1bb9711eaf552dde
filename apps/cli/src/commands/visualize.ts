import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  COLORMAP_NAMES,
  type ColormapName,
  DINO_KEEP,
  HEAD_FUSIONS,
  type HeadFusion,
  MAP_METHODS,
  type MapMethod,
} from '@vitlens/attention-viz';
import { type VisualizationFile, writeVisualization } from '@vitlens/attention-viz/node';
import { initBackend } from '@vitlens/core';
import type { ViTPipeline, VisionTransformer } from '@vitlens/vit-model';
import { WORKING_MAX_SIDE, listImageFiles, readImageOrSkip, reportUnreadable, shrinkImage } from '../images';
import { backendOption, nonNegativeInt } from './options';
import { type UnreadableOptions, openCheckpoint, pipelineOf } from './predict';

export interface VisualizeOptions extends UnreadableOptions {
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
  /** Also draw heads.png: every head of every layer (`--heads all`; default for models without a classifier). */
  headGrid?: boolean;
  /** DINO's view: the last layer's heads, each thresholded to keep this share of the mass (default 0.6 for models without a classifier). */
  dinoKeep?: number;
  /** Which special token's maps: 'cls', 'distillation' (DeiT) or 'both' (default: both for DeiT, else cls). */
  token?: MapToken;
  /** Draw the overlays and the figure at the image's own size instead of `displaySize`. */
  fullResolution?: boolean;
  /** Longest side of the drawn image (default `DISPLAY_MAX_SIDE`); smaller images are enlarged to ≥ 160 px. */
  displaySize?: number;
}

/**
 * Longest side overlays are drawn at by default: a phone photo's maps stay a few hundred
 * kilobytes each and the figure a few thousand pixels wide (the maps have 8–14 patches a side).
 */
export const DISPLAY_MAX_SIDE = 512;

/** The special tokens a map can be read from. */
export type MapToken = 'cls' | 'distillation' | 'both';

export interface ImageVisualization {
  image: string;
  outDir: string;
  /** The predicted class; absent for a model without a classifier. */
  predicted?: { label: string; index: number; probability: number };
  /** The class the gradient map explains; absent for a model without a classifier. */
  explained?: { label: string; index: number };
  /** A headless model's ‖CLS embedding‖₂ (its gradient map's target). */
  embeddingNorm?: number;
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

/**
 * Attention maps for image files: per image a folder under `options.out` with the input, an
 * overlay per layer, rollout, gradient, the labelled figure and maps.json. No tensors outlive the call.
 * An unreadable file throws, or with `options.onUnreadable` is reported and left out.
 */
export async function visualizeImages(
  source: VisionTransformer | ViTPipeline,
  files: readonly string[],
  options: VisualizeOptions,
): Promise<ImageVisualization[]> {
  const vit = await pipelineOf(source);
  const { model, labels } = vit;
  const c = model.config;
  const { prefixTokens } = vit.geometry;
  const token = options.token ?? (prefixTokens > 1 ? 'both' : 'cls');
  if (token !== 'cls' && prefixTokens < 2) throw new Error(`--token ${token}: this ${model.architecture} has no distillation token (only DeiT has one)`);
  const queries = [
    ...(token !== 'distillation' ? [{ index: 0, name: 'cls' }] : []),
    ...(token !== 'cls' ? [{ index: 1, name: 'distillation' }] : []),
  ];
  // A model without a classifier (DINO) is read through its heads: the grid and DINO's view by default.
  const headGrid = options.headGrid ?? !model.hasClassifier;
  const dinoKeep = options.dinoKeep ?? (model.hasClassifier ? undefined : DINO_KEEP);
  if (options.layers) {
    for (const l of options.layers) {
      if (l >= c.num_hidden_layers) throw new Error(`--layers ${l}: the model has layers 0..${c.num_hidden_layers - 1}`);
    }
  }
  if (options.head !== undefined && options.head >= c.num_attention_heads) {
    throw new Error(`--head ${options.head}: the model has heads 0..${c.num_attention_heads - 1}`);
  }
  let classIndex: number | undefined;
  if (options.className !== undefined && !model.hasClassifier) {
    throw new Error(`--class '${options.className}': this ${model.architecture} has no classifier; its gradient map explains the norm of the CLS embedding`);
  }
  if (options.className !== undefined) {
    const found = labels.indexOf(options.className);
    if (found < 0) throw new Error(`--class '${options.className}' is not a class of this model; its classes are: ${labels.join(', ')}`);
    classIndex = found;
  }
  const wantGradient = options.methods.includes('gradient');
  const names = outputNames(files);
  const results: ImageVisualization[] = [];
  for (const [i, file] of files.entries()) {
    // The model sees what predict sees (the image shrunk to WORKING_MAX_SIDE); the overlays are
    // drawn at a display size unless asked for the full resolution.
    const read = await readImageOrSkip(file, {
      ...(options.fullResolution ? {} : { maxSide: WORKING_MAX_SIDE }),
      onUnreadable: options.onUnreadable,
    });
    if (read === undefined) continue;
    const full = options.fullResolution ? read : undefined;
    const image = full ? shrinkImage(full, WORKING_MAX_SIDE) : read;
    const shown = full ?? shrinkImage(image, options.displaySize ?? DISPLAY_MAX_SIDE);
    const run = await vit.explain(image, { gradient: wantGradient, ...(model.hasClassifier ? { topk: 1 } : {}), ...(classIndex !== undefined ? { classIndex } : {}) });
    let predicted: ImageVisualization['predicted'];
    let explained: ImageVisualization['explained'];
    const best = run.predictions[0];
    if (best) {
      predicted = { label: best.label, index: best.classIndex, probability: best.probability };
      const explainedIndex = run.classIndex ?? best.classIndex;
      explained = { label: labels[explainedIndex] as string, index: explainedIndex };
    }
    const outDir = path.join(options.out, names[i] as string);
    const fusionText = options.head !== undefined ? `head ${options.head}` : `heads: ${options.fusion}`;
    const said = predicted
      ? `predicted ${predicted.label} (${(predicted.probability * 100).toFixed(1)}%)`
      : `${model.architecture}, no classifier; CLS embedding norm ${run.embeddingNorm?.toFixed(2)}`;
    const target = explained ? `class '${explained.label}'` : 'the norm of the CLS embedding';
    const { files: written } = await writeVisualization({
      image: shown,
      attention: run.attention,
      queries,
      headGrid,
      ...(dinoKeep !== undefined ? { dinoKeep } : {}),
      outDir,
      methods: options.methods,
      ...(options.layers ? { layers: options.layers } : {}),
      fusion: options.fusion,
      ...(options.head !== undefined ? { head: options.head } : {}),
      discardRatio: options.discardRatio,
      colormap: options.colormap,
      alpha: options.alpha,
      title: `${path.basename(file)}: ${said}`,
      subtitle:
        `${fusionText}; colormap ${options.colormap}; alpha ${options.alpha}` +
        (wantGradient ? `; gradient map for ${target}` : ''),
    });
    results.push({
      image: file,
      outDir,
      ...(predicted ? { predicted, explained } : {}),
      ...(run.embeddingNorm !== undefined ? { embeddingNorm: run.embeddingNorm } : {}),
      files: written,
    });
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
  fullResolution?: boolean;
  heads?: 'all';
  dinoKeep?: number;
  token?: MapToken;
}

export function registerVisualize(program: Command): void {
  program
    .command('visualize')
    .description('attention maps (CLS per layer, rollout, gradient-weighted) as PNG overlays and a labelled figure per image')
    .option('--checkpoint <dir>', 'checkpoint folder, https URL or Hub id (default: the shipped model at <repo>/models/default)')
    .requiredOption('--image <file|dir...>', 'image files (JPEG/PNG, any size) or folders of images')
    .addOption(new Option('--method <method>', 'which maps').choices(['all', ...MAP_METHODS]).default('all'))
    .option(
      '--layers <list>',
      "layers for the CLS maps: 'all' or numbers such as 0,6,11. Layers and heads are numbered from 0, as in the checkpoint " +
        "(vit.encoder.layer.0 is the first), in the figures, the cls-layer-NN.png names and the page",
      parseLayers,
      'all',
    )
    .addOption(new Option('--head-fusion <fusion>', 'how heads are combined').choices([...HEAD_FUSIONS]).default('mean'))
    .option('--head <n>', 'one head alone instead of fusing (numbered from 0)', nonNegativeInt('--head'))
    .option('--discard-ratio <r>', "rollout: drop this fraction of the lowest attentions (vit-explain's discard_ratio)", parseFraction('--discard-ratio', 1, false), 0)
    .addOption(new Option('--colormap <name>', 'colormap').choices([...COLORMAP_NAMES]).default('viridis'))
    .option('--class <name>', 'class the gradient map explains (default: the predicted class)')
    .option('--alpha <a>', 'heatmap weight over the image', parseFraction('--alpha', 1, true), 0.5)
    .option('--out <dir>', 'output folder', 'results/visualizations')
    .addOption(new Option('--heads <which>', "'all': also draw heads.png, every head of every layer (default for models without a classifier, e.g. DINO)").choices(['all']))
    .option(
      '--dino-keep <share>',
      "DINO's view: the last layer's heads, each thresholded to keep this share of its attention mass (the DINO paper's 0.6; default on at 0.6 for models without a classifier)",
      parseFraction('--dino-keep', 1, true),
    )
    .addOption(new Option('--token <token>', "which special token's maps: DeiT's distillation token, the CLS token, or both (default: both for DeiT, else cls)").choices(['cls', 'distillation', 'both']))
    .option('--full-resolution', `draw the overlays and the figure at each image's own size (default: at most ${DISPLAY_MAX_SIDE} px a side)`)
    .addOption(backendOption())
    .action(async (opts: VisualizeCliOptions) => {
      await initBackend({ prefer: opts.backend as never });
      const files = await listImageFiles(opts.image);
      const model = await openCheckpoint(opts.checkpoint);
      // A corrupt or unreadable file is named on stderr; the others are still drawn, then exit 1.
      const unreadable = reportUnreadable();
      try {
        const results = await visualizeImages(model, files, {
          onUnreadable: unreadable.onUnreadable,
          methods: opts.method === 'all' ? MAP_METHODS : [opts.method],
          ...(opts.layers !== 'all' ? { layers: opts.layers } : {}),
          fusion: opts.headFusion,
          ...(opts.head !== undefined ? { head: opts.head } : {}),
          discardRatio: opts.discardRatio,
          colormap: opts.colormap,
          alpha: opts.alpha,
          ...(opts.class !== undefined ? { className: opts.class } : {}),
          out: opts.out,
          ...(opts.fullResolution ? { fullResolution: true } : {}),
          ...(opts.heads === 'all' ? { headGrid: true } : {}),
          ...(opts.dinoKeep !== undefined ? { dinoKeep: opts.dinoKeep } : {}),
          ...(opts.token !== undefined ? { token: opts.token } : {}),
        });
        for (const r of results) {
          const figure = r.files.find((f) => f.kind === 'figure')?.path ?? '';
          const said = r.predicted
            ? `predicted ${r.predicted.label} (${(r.predicted.probability * 100).toFixed(1)}%)`
            : `no classifier (CLS embedding norm ${r.embeddingNorm?.toFixed(2)})`;
          process.stdout.write(`${r.image}: ${said}; ${r.files.length} files in ${r.outDir} (figure: ${figure})\n`);
        }
      } finally {
        model.dispose();
      }
      unreadable.throwIfAny(files.length);
    });
}
