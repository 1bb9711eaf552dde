import os from 'node:os';
import path from 'node:path';

/** The cache root: the option, else `$VITLENS_CACHE_DIR`, else `~/.cache/vitlens`. */
export function resolveCacheDir(option?: string): string {
  if (option) return path.resolve(option);
  const fromEnv = process.env.VITLENS_CACHE_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(os.homedir(), '.cache', 'vitlens');
}
