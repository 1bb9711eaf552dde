import fs from 'node:fs/promises';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { initBackend, tf } from '@vitlens/core';
import { CONFIG_FILE, type VisionTransformer, WEIGHTS_FILE, widenModel } from '@vitlens/vit-model';
import { loadCheckpoint, saveCheckpoint } from '@vitlens/vit-model/node';
import { backendOption, nonNegativeNumber, positiveInt, seedInt } from './options';

export interface WidenFlags {
  checkpoint: string;
  out: string;
  factor: number;
  noiseStd?: number;
  seed: number;
  backend?: string;
}

export interface WidenReport {
  from: { checkpoint: string; hiddenSize: number; params: number };
  to: { checkpoint: string; hiddenSize: number; params: number };
  /** Largest |Δ| between the two models' attention probabilities, every layer, on `checkImages` random images. */
  maxAttentionDiff: number;
  /** Largest |Δ| between their logits (null for a model without a classifier), and the largest |logit|. */
  maxLogitDiff: number | null;
  maxLogit: number | null;
  checkImages: number;
}

const CHECK_IMAGES = 4;

/** Largest |a − b| over every element of two lists of same-shaped tensors (call inside a tf.tidy). */
function maxDiff(a: readonly tf.Tensor[], b: readonly tf.Tensor[]): number {
  return Math.max(0, ...a.map((t, i) => tf.max(tf.abs(tf.sub(t, b[i] as tf.Tensor))).dataSync()[0] as number));
}

export type Differences = Pick<WidenReport, 'maxAttentionDiff' | 'maxLogitDiff' | 'maxLogit'>;

/** Runs both models on the same random images: how far apart their attention maps and logits are. */
export function compareModels(narrow: VisionTransformer, wide: VisionTransformer): Differences {
  let differences: Differences | undefined;
  // tf.tidy's callback may only return tensors; every tensor made here is released when it ends.
  tf.tidy(() => {
    const size = narrow.config.image_size;
    const pixels = tf.randomNormal([CHECK_IMAGES, size, size, narrow.config.num_channels], 0, 1, 'float32', 1) as tf.Tensor4D;
    if (!narrow.hasClassifier) {
      const a = narrow.forwardFeatures(pixels, { outputAttentions: true });
      const b = wide.forwardFeatures(pixels, { outputAttentions: true });
      differences = { maxAttentionDiff: maxDiff(a.attentions ?? [], b.attentions ?? []), maxLogitDiff: null, maxLogit: null };
      return;
    }
    const a = narrow.forward(pixels, { outputAttentions: true });
    const b = wide.forward(pixels, { outputAttentions: true });
    differences = {
      maxAttentionDiff: maxDiff(a.attentions ?? [], b.attentions ?? []),
      maxLogitDiff: maxDiff([a.logits], [b.logits]),
      maxLogit: tf.max(tf.abs(a.logits)).dataSync()[0] as number,
    };
  });
  return differences as Differences;
}

/** The report of a widening or narrowing from one checkpoint to another. */
export function resizeReport(
  from: { checkpoint: string; model: VisionTransformer },
  to: { checkpoint: string; model: VisionTransformer },
  check: Differences,
): WidenReport {
  const side = ({ checkpoint, model }: { checkpoint: string; model: VisionTransformer }) => ({
    checkpoint,
    hiddenSize: model.config.hidden_size,
    params: model.numParams(),
  });
  return { from: side(from), to: side(to), ...check, checkImages: CHECK_IMAGES };
}

/** One line: what was resized into what, and how far apart the two models' outputs are. */
export function describeResize(verb: 'widened' | 'narrowed', report: WidenReport): string {
  const { from, to, maxAttentionDiff, maxLogitDiff, maxLogit } = report;
  return (
    `${verb} ${from.checkpoint} (hidden ${from.hiddenSize}, ${from.params} parameters) → ${to.checkpoint} ` +
    `(hidden ${to.hiddenSize}, ${to.params} parameters); on ${report.checkImages} random images the largest ` +
    `attention difference is ${maxAttentionDiff.toExponential(1)}` +
    (maxLogitDiff === null ? '' : ` and the largest logit difference ${maxLogitDiff.toExponential(1)} (logits up to ${maxLogit?.toFixed(1)})`)
  );
}

/** The first checkpoint file folder `dir` already holds, if any. */
export async function holdsCheckpoint(dir: string): Promise<string | undefined> {
  for (const file of [CONFIG_FILE, WEIGHTS_FILE]) {
    if (await fs.stat(path.join(dir, file)).then(() => true, () => false)) return file;
  }
  return undefined;
}

/**
 * `vitlens widen`: a checkpoint `factor` times as wide (hidden size, per-head width) that computes
 * the same logits and attention maps, to train on from where the narrow model stopped
 * (`vitlens train --pretrained <out>`). Checks that claim on random images and refuses to
 * overwrite a checkpoint folder.
 */
export async function runWiden(flags: WidenFlags, log: (m: string) => void = () => {}): Promise<WidenReport> {
  await initBackend({ prefer: flags.backend as never });
  const existing = await holdsCheckpoint(flags.out);
  if (existing) throw new Error(`--out ${flags.out} already holds a checkpoint (${existing}); choose a new folder (nothing was written)`);
  const narrow = await loadCheckpoint(flags.checkpoint);
  try {
    const wide = widenModel(narrow, { factor: flags.factor, noiseStd: flags.noiseStd, seed: flags.seed });
    try {
      const check = compareModels(narrow, wide);
      const tolerance = 1e-3 * Math.max(1, check.maxLogit ?? 1);
      if (check.maxAttentionDiff > 1e-4 || (check.maxLogitDiff ?? 0) > tolerance) {
        throw new Error(
          `widen: the widened model does not compute what ${flags.checkpoint} computes (attention |Δ| ${check.maxAttentionDiff}, logit |Δ| ${check.maxLogitDiff}); nothing was written`,
        );
      }
      await saveCheckpoint(wide, flags.out);
      const report = resizeReport({ checkpoint: flags.checkpoint, model: narrow }, { checkpoint: flags.out, model: wide }, check);
      log(describeResize('widened', report));
      return report;
    } finally {
      wide.dispose();
    }
  } finally {
    narrow.dispose();
  }
}

/** `--factor`: an integer ≥ 2 (widen and narrow). */
export function factorArg(value: string): number {
  const n = positiveInt('--factor')(value);
  if (n < 2) throw new InvalidArgumentError(`--factor expects an integer ≥ 2, got '${value}'`);
  return n;
}

export function registerWiden(program: Command): void {
  program
    .command('widen')
    .description(
      'write a checkpoint N times as wide that computes the same logits and attention maps (function-preserving growth), to train further with `vitlens train --pretrained <out>`',
    )
    .argument('<checkpoint>', 'checkpoint folder, URL or Hub id to widen')
    .requiredOption('--out <dir>', 'new checkpoint folder (must not hold a checkpoint)')
    .option('--factor <n>', 'the new hidden size is n × the old one (an integer ≥ 2)', factorArg, 2)
    .option('--noise-std <x>', "std of the zero-sum noise that lets the copies diverge in training (default: the config's initializer_range)", nonNegativeNumber('--noise-std'))
    .option('--seed <n>', 'seed of that noise', seedInt('--seed'), 0)
    .option('--json', 'print the report as JSON')
    .addOption(backendOption())
    .action(async (checkpoint: string, opts: Omit<WidenFlags, 'checkpoint'> & { json?: boolean }) => {
      const report = await runWiden({ ...opts, checkpoint }, (m) => process.stderr.write(`${m}\n`));
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
}
