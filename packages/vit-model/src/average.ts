import type { ImageProcessorConfig } from './config';
import { VisionTransformer } from './model';

/**
 * Weight averaging of checkpoints of one model: a "uniform soup" (Wortsman et al., "Model soups",
 * 2022) of models fine-tuned from one start, or the average of a run's last checkpoints. It helps
 * only where the models lie in one basin of the loss (trained from the same weights); of unrelated
 * models it makes a poor one, which `parameterDistance` and an evaluation show.
 */
export class AverageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AverageError';
  }
}

export interface AverageOptions {
  /**
   * How much each model counts, in the order of the models (non-negative, not all zero; they are
   * divided by their sum). Default: all equal.
   */
  weights?: readonly number[];
  /** Names the models in error messages (e.g. their checkpoint folders); default "model 1", "model 2", … */
  names?: readonly string[];
}

/** The processor fields that decide what a pixel means to the model: they must agree to average. */
const NORMALISATION_FIELDS = ['do_rescale', 'rescale_factor', 'do_normalize', 'image_mean', 'image_std'] as const satisfies readonly (keyof ImageProcessorConfig)[];

/**
 * Each model's share of the average: `weights` divided by their sum (all equal without them), after
 * checking there is one per model, each finite and ≥ 0, and not all 0 (else an `AverageError`).
 */
export function averageShares(count: number, weights: readonly number[] | undefined): number[] {
  if (weights === undefined) return new Array<number>(count).fill(1 / count);
  if (weights.length !== count) throw new AverageError(`weights: expected one per model (${count}), got ${weights.length}`);
  weights.forEach((w, i) => {
    if (!Number.isFinite(w) || w < 0) throw new AverageError(`weights[${i}]: expected a finite number ≥ 0, got ${w}`);
  });
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) throw new AverageError('weights: at least one must be above 0');
  return weights.map((w) => w / sum);
}

/** Throw unless `other` has `first`'s architecture, parameters (names and shapes), classes and normalisation. */
function checkSameModel(first: VisionTransformer, other: VisionTransformer, firstName: string, otherName: string): void {
  const differ = (what: string, a: unknown, b: unknown, hint = ''): never => {
    throw new AverageError(`${otherName}: ${what} is ${JSON.stringify(b)}, but ${firstName}'s is ${JSON.stringify(a)}; only checkpoints of one model can be averaged${hint}`);
  };
  if (other.layout.architecture !== first.layout.architecture) differ('the architecture', first.layout.architecture, other.layout.architecture);
  for (const [name, variable] of first.params) {
    const theirs = other.params.get(name);
    if (!theirs) throw new AverageError(`${otherName}: has no parameter ${name} (${firstName} has one of shape [${variable.shape.join(', ')}]); only checkpoints of one model can be averaged`);
    if (theirs.shape.join() !== variable.shape.join()) {
      const hint = name.includes('position_embeddings') ? ' (models trained at other image sizes: load them at one, which resizes their position embeddings)' : '';
      differ(`the shape of ${name}`, variable.shape, theirs.shape, hint);
    }
  }
  for (const name of other.params.keys()) {
    if (!first.params.has(name)) throw new AverageError(`${otherName}: has parameter ${name}, which ${firstName} lacks; only checkpoints of one model can be averaged`);
  }
  if (JSON.stringify(other.config.id2label) !== JSON.stringify(first.config.id2label)) differ('id2label', first.config.id2label, other.config.id2label);
  for (const field of NORMALISATION_FIELDS) {
    if (JSON.stringify(other.processor[field]) !== JSON.stringify(first.processor[field])) differ(`preprocessor ${field}`, first.processor[field], other.processor[field]);
  }
}

/**
 * A new model whose every parameter is the weighted mean of the models' (see `AverageOptions`);
 * its config and processor are the first model's. The models must be one model's checkpoints:
 * same architecture, parameter names and shapes (so one image size), classes and normalisation.
 * The models are left as they were; dispose the result when done.
 */
export function averageModels(models: readonly VisionTransformer[], options: AverageOptions = {}): VisionTransformer {
  if (models.length === 0) throw new AverageError('average: no models given');
  const names = models.map((_, i) => options.names?.[i] ?? `model ${i + 1}`);
  const weights = averageShares(models.length, options.weights);
  const first = models[0]!;
  for (let i = 1; i < models.length; i++) checkSameModel(first, models[i]!, names[0]!, names[i]!);
  const values = new Map<string, Float32Array>();
  for (const [name, variable] of first.params) {
    // accumulated in float64 so that the order of the models does not change the float32 result
    const sum = new Float64Array(variable.size);
    models.forEach((model, m) => {
      const data = model.params.get(name)!.dataSync();
      for (let i = 0; i < data.length; i++) sum[i]! += weights[m]! * data[i]!;
    });
    values.set(name, Float32Array.from(sum));
  }
  return VisionTransformer.fromValues({ ...first.config }, first.layout, { ...first.processor }, values, 0);
}

/**
 * How far `model`'s parameters are from `reference`'s: ‖model − reference‖ / ‖reference‖ over all
 * parameters (Euclidean norms; 0 for the same weights). Both must be one model's checkpoints.
 */
export function parameterDistance(model: VisionTransformer, reference: VisionTransformer): number {
  checkSameModel(reference, model, 'the reference', 'the model');
  let difference = 0;
  let norm = 0;
  for (const [name, variable] of reference.params) {
    const ref = variable.dataSync();
    const other = model.params.get(name)!.dataSync();
    for (let i = 0; i < ref.length; i++) {
      difference += (other[i]! - ref[i]!) ** 2;
      norm += ref[i]! ** 2;
    }
  }
  return norm === 0 ? Math.sqrt(difference) : Math.sqrt(difference / norm);
}
