import { modelFromFiles } from '../checkpoint';
import { VisionTransformer } from '../model';
import { LOAD_OPTION_KEYS } from './constants';
import { Pipeline, checkOptionKeys } from './pipeline';
import { fetchReader, folderReader, modelFromReader, nodeFs } from './sources';
import type { CheckpointFiles, LoadOptions, ModelSource, ViTPipeline } from './types';

function isCheckpointFiles(source: unknown): source is CheckpointFiles {
  const s = source as Partial<CheckpointFiles>;
  return typeof s === 'object' && s !== null && 'config' in s && s.weights instanceof Uint8Array;
}

/** A model from `source`, and whether `load` built it (and so frees it on `dispose`). */
async function resolveModel(source: ModelSource, options: LoadOptions): Promise<{ model: VisionTransformer; name: string; owned: boolean }> {
  const { warmup: _warmup, fetch: fetchOption, ...modelOptions } = options;
  if (source instanceof VisionTransformer) {
    if (Object.keys(modelOptions).length > 0) {
      throw new Error(`load: ${Object.keys(modelOptions).join(', ')} apply when load builds the model; a VisionTransformer passed in is used as it is`);
    }
    return { model: source, name: 'model', owned: false };
  }
  if (isCheckpointFiles(source)) {
    return { model: modelFromFiles(source, modelOptions), name: source.source ?? 'files', owned: true };
  }
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw new Error(
      'load: expected a checkpoint folder path (Node), the URL of a checkpoint folder, { config, processor?, weights } ' +
        `or a VisionTransformer, got ${source === null ? 'null' : typeof source}`,
    );
  }
  const text = String(source);
  if (text.trim() === '') throw new Error('load: the checkpoint source is an empty string; give a folder path or a URL');
  const fs = nodeFs();
  const isUrl = source instanceof URL || /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  if (isUrl || fs === undefined) {
    const fetchFn = fetchOption ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') throw new Error(`load('${text}'): this runtime has no fetch; pass { fetch }`);
    const base = !isUrl && typeof location !== 'undefined' ? new URL(text.replace(/\/*$/, '/'), location.href).href : text;
    return { model: await modelFromReader(fetchReader(base, fetchFn), text, modelOptions), name: text, owned: true };
  }
  let folder = false;
  try {
    folder = (await fs.stat(text)).isDirectory();
  } catch {
    // reported below
  }
  if (!folder) {
    throw new Error(
      `load('${text}'): no such folder; give a checkpoint folder (config.json, model.safetensors, optionally preprocessor_config.json) ` +
        "or an http(s) URL of one (Hugging Face Hub ids and the download cache: loadCheckpoint from '@vitlens/vit-model/node', then load(model))",
    );
  }
  return { model: await modelFromReader(folderReader(text, fs), text, modelOptions), name: text, owned: true };
}

/**
 * Load a Vision Transformer for inference, as tfjs-models' `load`: validates the options, loads
 * the checkpoint, runs one blank image through it (unless `warmup: false`) and returns the calls
 * every program uses: `classify`, `predict`, `explain`, `embed`.
 *
 * `source`: a checkpoint folder's path (Node), the URL of a folder served over HTTP (browser, or any
 * runtime with fetch), `{ config, processor?, weights }` already read, or a `VisionTransformer`.
 *
 * ```ts
 * const vit = await load('models/default');
 * const top = await vit.classify(decodeImage(bytes, 'cat.jpg'), { topk: 3 });
 * ```
 */
export async function load(source: ModelSource, options: LoadOptions = {}): Promise<ViTPipeline> {
  checkOptionKeys('load', options, LOAD_OPTION_KEYS);
  if (options.warmup !== undefined && typeof options.warmup !== 'boolean') {
    throw new Error(`load: warmup must be true or false, got ${JSON.stringify(options.warmup)}`);
  }
  const { model, name, owned } = await resolveModel(source, options);
  const pipeline = new Pipeline(model, name, owned);
  if (options.warmup ?? true) {
    try {
      await pipeline.warmUp();
    } catch (error) {
      pipeline.dispose();
      throw error;
    }
  }
  return pipeline;
}
