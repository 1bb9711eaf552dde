import { CONFIG_FILE, type ModelFromFilesOptions, PROCESSOR_FILE, WEIGHTS_FILE, modelFromFiles } from '../checkpoint';
import type { VisionTransformer } from '../model';

/** Reads one file of a checkpoint: its bytes, or `undefined` when it does not exist. */
export type CheckpointReader = (file: string) => Promise<Uint8Array | undefined>;

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Build a model from a checkpoint folder through `read` (the file system, `fetch`, an archive…):
 * `config.json` and `model.safetensors` must exist, `preprocessor_config.json` may. `source` names the
 * folder in errors. Browser-safe; `loadCheckpoint` (Node) and `load` use it.
 */
export async function modelFromReader(read: CheckpointReader, source: string, opts: ModelFromFilesOptions = {}): Promise<VisionTransformer> {
  const where = (file: string): string => `${source.replace(/[\\/]+$/, '')}/${file}`;
  const config = await read(CONFIG_FILE);
  const missing = (file: string): Error =>
    new Error(`${source}: no ${file}; a vitlens/Hugging Face checkpoint folder holds ${CONFIG_FILE}, ${PROCESSOR_FILE} (optional) and ${WEIGHTS_FILE}`);
  if (config === undefined) throw missing(CONFIG_FILE);
  const [processor, weights] = await Promise.all([read(PROCESSOR_FILE), read(WEIGHTS_FILE)]);
  if (weights === undefined) throw missing(WEIGHTS_FILE);
  return modelFromFiles(
    {
      config: parseJson(config, where(CONFIG_FILE)),
      processor: processor === undefined ? undefined : parseJson(processor, where(PROCESSOR_FILE)),
      weights,
      source,
    },
    opts,
  );
}

/** Files under a base URL; a 404 is a missing file, any other failure names the URL and the status. */
export function fetchReader(base: string, fetchFn: typeof fetch): CheckpointReader {
  const root = base.replace(/\/+$/, '');
  return async (file) => {
    const url = `${root}/${file}`;
    let response: Response;
    try {
      response = await fetchFn(url);
    } catch (error) {
      throw new Error(`could not fetch ${url} (${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)})`);
    }
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  };
}

interface NodeFs {
  readFile(path: string): Promise<Uint8Array>;
  stat(path: string): Promise<{ isDirectory(): boolean }>;
}

/**
 * Node's `fs/promises`, reached through `process.getBuiltinModule` (Node ≥ 20.16) so this module
 * stays free of Node imports and bundles for the browser unchanged; undefined elsewhere.
 */
export function nodeFs(): NodeFs | undefined {
  const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
  if (!proc?.versions?.node || typeof proc.getBuiltinModule !== 'function') return undefined;
  return proc.getBuiltinModule('fs/promises') as NodeFs;
}

/** Files of a local folder; ENOENT is a missing file. */
export function folderReader(dir: string, fs: NodeFs): CheckpointReader {
  const root = dir.replace(/[\\/]+$/, '');
  return async (file) => {
    try {
      const bytes = await fs.readFile(`${root}/${file}`);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw error;
    }
  };
}
