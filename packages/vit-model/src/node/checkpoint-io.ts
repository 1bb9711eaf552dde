import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@vitlens/core/node';
// The package's own main entry (not '../checkpoint'), so the built node entry shares the main
// entry's model classes instead of bundling a second copy of the model.
import {
  CONFIG_FILE,
  type ModelFromFilesOptions,
  PROCESSOR_FILE,
  type VisionTransformer,
  WEIGHTS_FILE,
  modelFromReader,
  modelToFiles,
} from '@vitlens/vit-model';

export interface LoadCheckpointOptions extends ModelFromFilesOptions {
  /** Where downloaded checkpoints are cached. Default: `VITLENS_CACHE_DIR`, else `~/.cache/vitlens/hub`. */
  cacheDir?: string;
  /** The Hub's base URL. Default: `VITLENS_HUB_ENDPOINT`, else `https://huggingface.co`. */
  hubEndpoint?: string;
}

export function defaultCacheDir(): string {
  const env = process.env.VITLENS_CACHE_DIR;
  return env && env.trim() !== '' ? env : path.join(os.homedir(), '.cache', 'vitlens', 'hub');
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

function loadFolder(dir: string, opts: ModelFromFilesOptions): Promise<VisionTransformer> {
  return modelFromReader(async (file) => {
    try {
      const bytes = await fs.readFile(path.join(dir, file));
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }, dir, opts);
}

/** Download one file unless it is cached; a missing optional file resolves to false. */
async function fetchToCache(url: string, target: string, optional: boolean, describe: () => string): Promise<boolean> {
  if (await exists(target)) return true;
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow' });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new Error(`could not download ${url} (${cause}). ${describe()}`);
  }
  if (response.status === 404 && optional) return false;
  if (!response.ok) {
    const hint = response.status === 404 && path.basename(target) === WEIGHTS_FILE ? ' (vitlens reads model.safetensors only, not pytorch_model.bin)' : '';
    throw new Error(`could not download ${url}: HTTP ${response.status} ${response.statusText}${hint}. ${describe()}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  await writeFileAtomic(target, bytes);
  return true;
}

async function loadRemote(base: string, cacheFolder: string, label: string, opts: ModelFromFilesOptions): Promise<VisionTransformer> {
  const describe = (): string =>
    `To use ${label} offline, put ${CONFIG_FILE}, ${PROCESSOR_FILE} and ${WEIGHTS_FILE} in ${cacheFolder} ` +
    `(or pass that folder's path instead of '${label}')`;
  const url = (file: string): string => `${base.replace(/\/+$/, '')}/${file}`;
  // A complete cached copy loads without the network (the processor file is optional upstream).
  if ((await exists(path.join(cacheFolder, CONFIG_FILE))) && (await exists(path.join(cacheFolder, WEIGHTS_FILE)))) {
    return loadFolder(cacheFolder, opts);
  }
  await fetchToCache(url(CONFIG_FILE), path.join(cacheFolder, CONFIG_FILE), false, describe);
  const hasProcessor = await fetchToCache(url(PROCESSOR_FILE), path.join(cacheFolder, PROCESSOR_FILE), true, describe);
  if (!hasProcessor) await fs.rm(path.join(cacheFolder, PROCESSOR_FILE), { force: true });
  // The weights last: their presence marks the cached copy complete.
  await fetchToCache(url(WEIGHTS_FILE), path.join(cacheFolder, WEIGHTS_FILE), false, describe);
  return loadFolder(cacheFolder, opts);
}

/**
 * Load a checkpoint from a local folder, an http(s) URL of a folder, or a Hub id ('org/name',
 * fetched from `<endpoint>/<id>/resolve/main/<file>`). Downloads are cached (atomic writes) under
 * `cacheDir/<org>--<name>` or `cacheDir/url-<hash>`; a cached checkpoint loads offline.
 */
export async function loadCheckpoint(source: string, opts: LoadCheckpointOptions = {}): Promise<VisionTransformer> {
  const { cacheDir, hubEndpoint, ...modelOpts } = opts;
  if (await isDirectory(source)) return loadFolder(source, modelOpts);
  const cache = cacheDir ?? defaultCacheDir();
  if (/^https?:\/\//i.test(source)) {
    const hash = createHash('sha256').update(source.replace(/\/+$/, '')).digest('hex').slice(0, 16);
    return loadRemote(source, path.join(cache, `url-${hash}`), source, modelOpts);
  }
  if (HUB_ID.test(source)) {
    const endpoint = hubEndpoint ?? process.env.VITLENS_HUB_ENDPOINT ?? 'https://huggingface.co';
    const folder = path.join(cache, source.replace('/', '--'));
    return loadRemote(`${endpoint.replace(/\/+$/, '')}/${source}/resolve/main`, folder, source, modelOpts);
  }
  throw new Error(
    `loadCheckpoint: '${source}' is not a folder, an http(s) URL or a Hugging Face Hub id like 'google/vit-base-patch16-224'`,
  );
}

/** Save in Hugging Face layout (config.json, preprocessor_config.json, model.safetensors), each file atomically. */
export async function saveCheckpoint(model: VisionTransformer, dir: string): Promise<void> {
  const files = modelToFiles(model);
  await fs.mkdir(dir, { recursive: true });
  await writeJsonAtomic(path.join(dir, CONFIG_FILE), files.config);
  await writeJsonAtomic(path.join(dir, PROCESSOR_FILE), files.processor);
  await writeFileAtomic(path.join(dir, WEIGHTS_FILE), files.weights);
}
