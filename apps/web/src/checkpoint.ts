import { CONFIG_FILE, modelFromFiles, PROCESSOR_FILE, type VisionTransformer, WEIGHTS_FILE } from '@vitlens/vit-model';
import type { ApiError, CheckpointListing } from './api';

/** A model and where it came from, for the page header. */
export interface LoadedModel {
  model: VisionTransformer;
  source: string;
  weightsBytes: number;
}

/** The server answered that it has no checkpoint (its JSON `error` says why). */
export class NoServerCheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoServerCheckpointError';
  }
}

async function fetchOk(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-cache' });
  } catch (error) {
    throw new Error(`could not reach ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as Partial<ApiError>;
      if (body.error) detail = body.error;
    } catch {
      // not JSON: keep the status line
    }
    throw new Error(`${url}: ${detail}`);
  }
  return response;
}

async function parseJson(text: string, source: string): Promise<unknown> {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${source} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Load the checkpoint the page's own server offers (`api/checkpoint/…`). Throws
 * `NoServerCheckpointError` when the server has none, or when the page was not served by
 * `vitlens serve` at all (e.g. a static host).
 */
export async function loadServerCheckpoint(progress: (line: string) => void): Promise<LoadedModel> {
  let response: Response;
  try {
    response = await fetch('api/checkpoint', { cache: 'no-cache' });
  } catch (error) {
    throw new NoServerCheckpointError(`the page's server did not answer api/checkpoint (${error instanceof Error ? error.message : String(error)})`);
  }
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('application/json')) {
    throw new NoServerCheckpointError('this page was not served by `vitlens serve`, so there is no checkpoint to load from it');
  }
  // A listing (200, or 404 without a checkpoint), or another error's body
  const listing = (await response.json()) as CheckpointListing | ApiError;
  if (!response.ok || !('available' in listing) || !listing.available) {
    throw new NoServerCheckpointError(('error' in listing ? listing.error : undefined) ?? `api/checkpoint: ${response.status}`);
  }
  const { files } = listing;
  progress(`Downloading ${WEIGHTS_FILE} (${formatBytes(files[WEIGHTS_FILE] ?? 0)})…`);
  const [configText, processorText, weights] = await Promise.all([
    fetchOk(`api/checkpoint/${CONFIG_FILE}`).then((r) => r.text()),
    files[PROCESSOR_FILE] !== undefined ? fetchOk(`api/checkpoint/${PROCESSOR_FILE}`).then((r) => r.text()) : Promise.resolve(undefined),
    fetchOk(`api/checkpoint/${WEIGHTS_FILE}`).then((r) => r.arrayBuffer()),
  ]);
  const source = `server:${listing.name}`;
  const model = modelFromFiles({
    config: await parseJson(configText, `${source}/${CONFIG_FILE}`),
    processor: processorText === undefined ? undefined : await parseJson(processorText, `${source}/${PROCESSOR_FILE}`),
    weights: new Uint8Array(weights),
    source,
  });
  return { model, source, weightsBytes: weights.byteLength };
}

/** Which dropped files form a checkpoint: config.json, model.safetensors, optional preprocessor_config.json. */
export function findCheckpointFiles(files: readonly File[]): { config?: File; processor?: File; weights?: File } {
  const found: { config?: File; processor?: File; weights?: File } = {};
  for (const file of files) {
    const name = file.name.toLowerCase();
    if (name.endsWith('.safetensors')) found.weights = file;
    else if (name === PROCESSOR_FILE) found.processor = file;
    else if (name === CONFIG_FILE) found.config = file;
  }
  return found;
}

/** True when the dropped files include any checkpoint part (so they are not images). */
export function looksLikeCheckpoint(files: readonly File[]): boolean {
  const f = findCheckpointFiles(files);
  return f.config !== undefined || f.weights !== undefined || f.processor !== undefined;
}

/** Build a model from files the user dropped or picked; errors name the missing or bad file. */
export async function loadCheckpointFiles(files: readonly File[]): Promise<LoadedModel> {
  const found = findCheckpointFiles(files);
  const missing = [found.config ? undefined : CONFIG_FILE, found.weights ? undefined : WEIGHTS_FILE].filter((x) => x !== undefined);
  if (missing.length > 0) {
    throw new Error(
      `a checkpoint needs ${CONFIG_FILE} and ${WEIGHTS_FILE} (plus ${PROCESSOR_FILE} when it has one); ` +
        `missing: ${missing.join(', ')} (got ${files.map((f) => f.name).join(', ') || 'no files'})`,
    );
  }
  const config = found.config as File;
  const weightsFile = found.weights as File;
  const source = 'dropped files';
  const weights = new Uint8Array(await weightsFile.arrayBuffer());
  const model = modelFromFiles({
    config: await parseJson(await config.text(), `${source}: ${config.name}`),
    processor: found.processor ? await parseJson(await found.processor.text(), `${source}: ${found.processor.name}`) : undefined,
    weights,
    source,
  });
  return { model, source: `${weightsFile.name} (dropped)`, weightsBytes: weights.byteLength };
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${n} B`;
}
