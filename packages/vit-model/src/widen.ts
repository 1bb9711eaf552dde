import { Rng } from '@vitlens/core';
import { type ViTConfig, parseConfig } from './config';
import type { Layout } from './layouts';
import { VisionTransformer } from './model';
import { paramSpecs } from './params';

/**
 * Function-preserving widening ("Net2WiderNet" for a transformer's residual stream): a model of
 * hidden size h becomes one of hidden size k·h, with the same number of heads (each k times wider)
 * and the same MLP size, that computes the same logits and the same attention maps. Training the
 * wider model then starts where the narrow one stopped instead of from scratch.
 *
 * How every value keeps its meaning (x: the narrow residual stream, X: the wide one):
 * - Writers of the residual stream (patch projection, CLS/distillation tokens, position
 *   embeddings, attention output and MLP output rows and biases, LayerNorm gains and biases) are
 *   copied k times, so X = [x, x, …, x] (k copies side by side). LayerNorm's mean and variance over
 *   X equal those over x, so every LayerNorm output is copied the same way.
 * - Readers of the residual stream (query, key, value, MLP input, classifier) see each input k
 *   times: their input columns are copied and divided by k, so W'X = Wx.
 * - Per head, query/key/value dims are copied the same way ([q_h, q_h, …]): a score over the wide
 *   head is k·q·k, and the wider head divides by √(k·d) instead of √d, so queries are scaled by
 *   1/√k to keep every score (and every attention probability) unchanged. The attention output
 *   projection reads the copied context as the readers above.
 *
 * Exact copies would stay copies for ever (their gradients are equal), so each reader also gets
 * noise that sums to zero over the k copies of one input: W'X is still exactly Wx while X's copies
 * are equal, and the copies start to differ from the first step of training.
 */
export interface WidenOptions {
  /** The new hidden size is `factor` × the old one: an integer ≥ 2 (default 2). */
  factor?: number;
  /** Std of the noise added to the readers' copied columns before it is centred to sum to zero (default: the config's `initializer_range`); 0 copies exactly. */
  noiseStd?: number;
  /** Seed of that noise (default 0): the same seed gives the same weights. */
  seed?: number | string;
}

/** A model that cannot be widened, or options that make no sense; the message names which. */
export class WidenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WidenError';
  }
}

/** One parameter's value: its HF shape and its row-major float32 data. */
export interface ParamValue {
  shape: number[];
  data: Float32Array;
}

/** Where each index of a widened axis takes its value from, and which copy of that source it is. */
interface AxisMap {
  /** source[i]: the narrow index that wide index i copies. */
  source: Int32Array;
  /** copy[i]: 0..k-1, which of the k copies of source[i] index i is. */
  copy: Int32Array;
}

/** The residual stream: wide index j copies narrow index j mod h ([x, x, …]). */
function residualMap(hidden: number, factor: number): AxisMap {
  const source = new Int32Array(hidden * factor);
  const copy = new Int32Array(hidden * factor);
  for (let j = 0; j < source.length; j++) {
    source[j] = j % hidden;
    copy[j] = Math.floor(j / hidden);
  }
  return { source, copy };
}

/** Attention dims, head by head: wide head dim t of head n copies narrow dim t mod d of the same head. */
function headMap(hidden: number, heads: number, factor: number): AxisMap {
  const headDim = hidden / heads;
  const wideHeadDim = headDim * factor;
  const source = new Int32Array(hidden * factor);
  const copy = new Int32Array(hidden * factor);
  for (let j = 0; j < source.length; j++) {
    const head = Math.floor(j / wideHeadDim);
    const t = j % wideHeadDim;
    source[j] = head * headDim + (t % headDim);
    copy[j] = Math.floor(t / headDim);
  }
  return { source, copy };
}

/** How one parameter widens, viewed as a matrix [rows, cols]. */
interface Rule {
  test: RegExp;
  /** 'linear': [out, in] (or a conv [out, …] flattened to [out, rest]); 'vector': last axis widens, the rest flattened into rows. */
  view: 'linear' | 'vector';
  rows?: 'residual' | 'head';
  cols?: 'residual' | 'head';
  /** Columns are read copies: divide by the factor and add zero-sum noise. */
  readsCopies?: boolean;
  /** Multiply by 1/√factor (queries). */
  query?: boolean;
}

// Keys relative to the layout's prefix (`vit.`, `deit.` or none). Order matters: the attention
// output projection before the MLP output.
const RULES: Rule[] = [
  { test: /^embeddings\.(cls_token|distillation_token|position_embeddings)$/, view: 'vector', cols: 'residual' },
  { test: /^embeddings\.patch_embeddings\.projection\.weight$/, view: 'linear', rows: 'residual' },
  { test: /^embeddings\.patch_embeddings\.projection\.bias$/, view: 'vector', cols: 'residual' },
  { test: /\.attention\.attention\.query\.weight$/, view: 'linear', rows: 'head', cols: 'residual', readsCopies: true, query: true },
  { test: /\.attention\.attention\.query\.bias$/, view: 'vector', cols: 'head', query: true },
  { test: /\.attention\.attention\.(key|value)\.weight$/, view: 'linear', rows: 'head', cols: 'residual', readsCopies: true },
  { test: /\.attention\.attention\.(key|value)\.bias$/, view: 'vector', cols: 'head' },
  { test: /\.attention\.output\.dense\.weight$/, view: 'linear', rows: 'residual', cols: 'head', readsCopies: true },
  { test: /\.attention\.output\.dense\.bias$/, view: 'vector', cols: 'residual' },
  { test: /\.intermediate\.dense\.weight$/, view: 'linear', cols: 'residual', readsCopies: true },
  { test: /\.intermediate\.dense\.bias$/, view: 'vector' },
  { test: /\.output\.dense\.weight$/, view: 'linear', rows: 'residual' },
  { test: /\.output\.dense\.bias$/, view: 'vector', cols: 'residual' },
  { test: /(^|\.)layernorm(_before|_after)?\.(weight|bias)$/, view: 'vector', cols: 'residual' },
  { test: /^(classifier|cls_classifier|distillation_classifier)\.weight$/, view: 'linear', cols: 'residual', readsCopies: true },
  { test: /^(classifier|cls_classifier|distillation_classifier)\.bias$/, view: 'vector' },
];

function identity(n: number): AxisMap {
  return { source: Int32Array.from({ length: n }, (_, i) => i), copy: new Int32Array(n) };
}

/** The matrix view [rows, cols] of a stored tensor under its rule. */
function matrixView({ shape, data }: ParamValue, rule: Rule): { rows: number; cols: number } {
  const rows = rule.view === 'linear' ? (shape[0] as number) : shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return { rows, cols: data.length / rows };
}

/**
 * The stored shape of a resized [rows, cols] view: the resized axes keep their places, [out, in]
 * for linear, [out, c, p, p] for the patch projection (whose input axes never resize), the last
 * axis for vectors.
 */
function resizedShape(shape: number[], rule: Rule, rows: number, cols: number): number[] {
  if (rule.view === 'vector') return [...shape.slice(0, -1), cols];
  return shape.length === 2 ? [rows, cols] : [rows, ...shape.slice(1)];
}

/** A model's parameters as HF state-dict values. */
function paramValues(model: VisionTransformer): Map<string, ParamValue> {
  const values = new Map<string, ParamValue>();
  for (const [name, variable] of model.params) values.set(name, { shape: [...variable.shape], data: variable.dataSync() as Float32Array });
  return values;
}

/** One parameter widened by its rule; `rng` draws the zero-sum noise of readers. */
function widenParam(value: ParamValue, rule: Rule, maps: Record<'residual' | 'head', AxisMap>, factor: number, noiseStd: number, rng: Rng): ParamValue {
  const { shape, data } = value;
  const { rows, cols } = matrixView(value, rule);
  const rowMap = rule.rows ? maps[rule.rows] : identity(rows);
  const colMap = rule.cols ? maps[rule.cols] : identity(cols);
  const wideRows = rowMap.source.length;
  const wideCols = colMap.source.length;
  const scale = (rule.readsCopies ? 1 / factor : 1) * (rule.query ? 1 / Math.sqrt(factor) : 1);
  const out = new Float32Array(wideRows * wideCols);
  for (let r = 0; r < wideRows; r++) {
    const from = (rowMap.source[r] as number) * cols;
    for (let c = 0; c < wideCols; c++) out[r * wideCols + c] = (data[from + (colMap.source[c] as number)] as number) * scale;
  }
  if (rule.readsCopies && noiseStd > 0) addZeroSumNoise(out, wideRows, colMap, cols, factor, noiseStd, rng);
  return { shape: resizedShape(shape, rule, wideRows, wideCols), data: out };
}

/** Per row, noise on the k copies of each narrow column that sums to zero, so the row's output is unchanged. */
function addZeroSumNoise(out: Float32Array, rows: number, colMap: AxisMap, narrowCols: number, factor: number, std: number, rng: Rng): void {
  const wideCols = colMap.source.length;
  // copiesOf[s * factor + copy] = the wide column holding that copy of narrow column s
  const copiesOf = new Int32Array(narrowCols * factor);
  for (let c = 0; c < wideCols; c++) copiesOf[(colMap.source[c] as number) * factor + (colMap.copy[c] as number)] = c;
  const draws = new Float32Array(factor);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < narrowCols; s++) {
      rng.fillNormal(draws, 0, std);
      let mean = 0;
      for (const d of draws) mean += d / factor;
      for (let i = 0; i < factor; i++) {
        const at = r * wideCols + (copiesOf[s * factor + i] as number);
        out[at] = (out[at] as number) + (draws[i] as number) - mean;
      }
    }
  }
}

/**
 * Every parameter of `config`'s model, checked against its spec and mapped by `resize` under its
 * rule; errors start with `prefix` and name the parameter.
 */
function mapParams(
  config: ViTConfig,
  layout: Layout,
  values: ReadonlyMap<string, ParamValue>,
  prefix: string,
  resize: (name: string, value: ParamValue, rule: Rule) => ParamValue,
): Map<string, ParamValue> {
  const out = new Map<string, ParamValue>();
  for (const spec of paramSpecs(config, layout)) {
    const value = values.get(spec.name);
    if (!value) throw new WidenError(`${prefix}no value for ${spec.name}`);
    if (value.shape.join(',') !== spec.shape.join(',')) {
      throw new WidenError(`${prefix}${spec.name}: shape [${value.shape.join(', ')}], expected [${spec.shape.join(', ')}] for hidden_size ${config.hidden_size}`);
    }
    const relative = spec.name.startsWith(layout.prefix) ? spec.name.slice(layout.prefix.length) : spec.name;
    const rule = RULES.find((r) => r.test.test(relative));
    if (!rule) throw new WidenError(`${prefix}${spec.name}: no widening rule for this parameter`);
    out.set(spec.name, resize(spec.name, value, rule));
  }
  return out;
}

/**
 * The widened config and weights of a model given as HF state-dict values (keys with the layout's
 * prefix, as `paramSpecs` names them). Throws a `WidenError` naming the parameter or option at fault.
 */
export function widenWeights(
  config: ViTConfig,
  layout: Layout,
  values: ReadonlyMap<string, ParamValue>,
  options: WidenOptions = {},
): { config: ViTConfig; values: Map<string, ParamValue> } {
  const factor = options.factor ?? 2;
  if (!Number.isInteger(factor) || factor < 2) throw new WidenError(`factor must be an integer ≥ 2, got ${factor}`);
  const noiseStd = options.noiseStd ?? config.initializer_range;
  if (!(Number.isFinite(noiseStd) && noiseStd >= 0)) throw new WidenError(`noiseStd must be a number ≥ 0, got ${noiseStd}`);
  if (layout.pooler) {
    throw new WidenError(`${layout.architecture} with a pooler cannot be widened: its tanh(dense(CLS)) output would change; drop the pooler first`);
  }
  const hidden = config.hidden_size;
  const wide = parseConfig({ ...config, hidden_size: hidden * factor }, 'widened config');
  const maps = { residual: residualMap(hidden, factor), head: headMap(hidden, config.num_attention_heads, factor) };
  const rng = new Rng(options.seed ?? 0).fork('widen');
  const out = mapParams(config, layout, values, '', (name, value, rule) => widenParam(value, rule, maps, factor, noiseStd, rng.fork(name)));
  return { config: wide, values: out };
}

/** One parameter narrowed by its rule: the inverse of `widenParam` on the same maps. */
function narrowParam(value: ParamValue, rule: Rule, maps: Record<'residual' | 'head', AxisMap>, narrowHidden: number, factor: number): ParamValue {
  const { shape, data } = value;
  const { rows, cols } = matrixView(value, rule);
  const rowMap = rule.rows ? maps[rule.rows] : identity(rows);
  const colMap = rule.cols ? maps[rule.cols] : identity(cols);
  const narrowRows = rule.rows ? narrowHidden : rows;
  const narrowCols = rule.cols ? narrowHidden : cols;
  // Copies of a written value are averaged (k equal values give that value back); the copied
  // input columns of a reader are summed (k × (w / k + zero-sum noise) gives w back); queries get
  // their 1/√k back.
  const rowWeight = rule.rows ? 1 / factor : 1;
  const colWeight = rule.cols && !rule.readsCopies ? 1 / factor : 1;
  const scale = rowWeight * colWeight * (rule.query ? Math.sqrt(factor) : 1);
  const out = new Float32Array(narrowRows * narrowCols);
  for (let r = 0; r < rows; r++) {
    const to = (rowMap.source[r] as number) * narrowCols;
    for (let c = 0; c < cols; c++) {
      const at = to + (colMap.source[c] as number);
      out[at] = (out[at] as number) + (data[r * cols + c] as number) * scale;
    }
  }
  return { shape: resizedShape(shape, rule, narrowRows, narrowCols), data: out };
}

/** How many copies a model made by widening carries. */
export interface NarrowOptions {
  /** The new hidden size is the old one / `factor`: an integer ≥ 2 that divides the hidden size and the head size (default 2). */
  factor?: number;
}

/**
 * The inverse of `widenWeights`: merges the `factor` side-by-side copies of a widened model's
 * residual stream (and of each head's dims) back into one, averaging the copies of every written
 * value and summing each reader's copied input columns. On what `widenWeights` returns it gives
 * the narrow weights back (the readers' zero-sum noise cancels), up to float rounding. On a widened
 * model trained further, whose copies have drifted apart, it gives the nearest narrow model: the
 * merge keeps the copies' mean and drops their differences, so the function changes by about as
 * much as the copies differ. Widening the result again with new noise (`widenWeights`) re-splits
 * the copies from scratch. Throws a `WidenError` naming the option or parameter at fault.
 */
export function narrowWeights(
  config: ViTConfig,
  layout: Layout,
  values: ReadonlyMap<string, ParamValue>,
  options: NarrowOptions = {},
): { config: ViTConfig; values: Map<string, ParamValue> } {
  const factor = options.factor ?? 2;
  if (!Number.isInteger(factor) || factor < 2) throw new WidenError(`narrow: factor must be an integer ≥ 2, got ${factor}`);
  const hidden = config.hidden_size;
  const heads = config.num_attention_heads;
  if (hidden % (factor * heads) !== 0) {
    throw new WidenError(`narrow: hidden_size ${hidden} with ${heads} heads cannot be split into ${factor} copies (each head's ${hidden / heads} dims must divide by ${factor})`);
  }
  if (layout.pooler) throw new WidenError(`narrow: ${layout.architecture} with a pooler cannot be narrowed (widenWeights never makes one)`);
  const narrowHidden = hidden / factor;
  const narrow = parseConfig({ ...config, hidden_size: narrowHidden }, 'narrowed config');
  // The wide axes map onto the narrow ones exactly as widening laid them out.
  const maps = { residual: residualMap(narrowHidden, factor), head: headMap(narrowHidden, heads, factor) };
  const out = mapParams(config, layout, values, 'narrow: ', (_name, value, rule) => narrowParam(value, rule, maps, narrowHidden, factor));
  return { config: narrow, values: out };
}

/** A new model `factor` times as wide that computes what `model` computes (see `WidenOptions`); `model` is left as it was. */
export function widenModel(model: VisionTransformer, options: WidenOptions = {}): VisionTransformer {
  const widened = widenWeights(model.config, model.layout, paramValues(model), options);
  const data = new Map([...widened.values].map(([name, v]) => [name, v.data]));
  return VisionTransformer.fromValues(widened.config, model.layout, { ...model.processor }, data, options.seed ?? 0);
}

/** `narrowWeights` on a model: a new model 1/`factor` as wide, its widened copies merged; `model` is left as it was. */
export function narrowModel(model: VisionTransformer, options: NarrowOptions = {}): VisionTransformer {
  const narrowed = narrowWeights(model.config, model.layout, paramValues(model), options);
  const data = new Map([...narrowed.values].map(([name, v]) => [name, v.data]));
  return VisionTransformer.fromValues(narrowed.config, model.layout, { ...model.processor }, data, 0);
}
