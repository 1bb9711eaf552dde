import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The @vitlens/cli package folder: the nearest ancestor of this module with its package.json.
 * Works from the bundled dist/bin.js and from the sources (tests).
 */
export function cliPackageRoot(fromUrl: string = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(fromUrl));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === '@vitlens/cli') return dir;
      } catch {
        // not JSON: keep looking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the @vitlens/cli package.json above ${fileURLToPath(fromUrl)}`);
    dir = parent;
  }
}

/**
 * Where the built page is: `<cli>/dist/web` (copied there by the CLI build, so the published
 * package carries it), else `<repo>/apps/web/dist` in a checkout. Returns every folder tried.
 */
export function locateWebRoot(cliRoot: string = cliPackageRoot()): { found: string | undefined; tried: string[] } {
  const tried = [path.join(cliRoot, 'dist', 'web'), path.resolve(cliRoot, '..', 'web', 'dist')];
  return { found: tried.find((dir) => fs.existsSync(path.join(dir, 'index.html'))), tried };
}

/**
 * The shipped default model: `<cli>/dist/models/default` (copied there by the CLI build, so the
 * published package carries it), else `<repo>/models/default` in a checkout. When neither exists
 * the repository path is returned, so "no checkpoint" errors name where the model is expected.
 */
export function defaultCheckpointDir(cliRoot: string = cliPackageRoot()): string {
  const candidates = [path.join(cliRoot, 'dist', 'models', 'default'), path.resolve(cliRoot, '..', '..', 'models', 'default')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'config.json'))) ?? (candidates[1] as string);
}
