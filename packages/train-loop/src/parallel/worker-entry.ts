import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The file this module was loaded from: a built `dist/*.js|cjs`, or `src/parallel/*.ts` in tests. */
function thisFile(): string {
  // CJS build: __filename; ESM build and sources: import.meta.url.
  if (typeof __filename === 'string') return __filename;
  return fileURLToPath(import.meta.url);
}

/**
 * Where the replica entry is. Built: `parallel-worker.js` (or `.cjs`) next to the bundle, as
 * tsup emits it. From sources (vitest aliases `@vitlens/*` to `src/`): the worker and its
 * workspace imports are bundled once with esbuild into `node_modules/.cache/` of this package,
 * keyed by a hash of the sources, so a test runs the code under test without a build.
 */
export async function resolveWorkerEntry(override?: string | URL): Promise<URL> {
  if (override !== undefined) return override instanceof URL ? override : pathToFileURL(path.resolve(override));
  const self = thisFile();
  if (!self.endsWith('.ts')) {
    const ext = self.endsWith('.cjs') ? '.cjs' : '.js';
    const built = path.join(path.dirname(self), `parallel-worker${ext}`);
    if (!existsSync(built)) {
      throw new Error(`WorkerGradientEngine: ${built} is missing; the package build must emit the 'parallel-worker' entry (tsup.config.ts)`);
    }
    return pathToFileURL(built);
  }
  return pathToFileURL(await bundleFromSources(path.join(path.dirname(self), 'worker.ts')));
}

/** The workspace root: the nearest parent with pnpm-workspace.yaml. */
function workspaceRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`WorkerGradientEngine: no pnpm-workspace.yaml above ${from}`);
  }
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

async function bundleFromSources(entry: string): Promise<string> {
  const root = workspaceRoot(path.dirname(entry));
  const packagesDir = path.join(root, 'packages');
  const hash = createHash('sha256');
  for (const file of sourceFiles(packagesDir).filter((f) => f.includes(`${path.sep}src${path.sep}`)).sort()) {
    hash.update(file).update(readFileSync(file));
  }
  const pkgDir = path.resolve(path.dirname(entry), '..', '..');
  const cacheDir = path.join(pkgDir, 'node_modules', '.cache', 'vitlens-parallel');
  const out = path.join(cacheDir, `worker-${hash.digest('hex').slice(0, 16)}.mjs`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  // A variable specifier keeps tsup from bundling esbuild into dist (only tests from sources need it).
  const esbuildModule = 'esbuild';
  const esbuild = (await import(/* @vite-ignore */ esbuildModule)) as typeof import('esbuild');
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [
      {
        name: 'vitlens-sources',
        setup(build) {
          // tfjs packages stay external and resolve from this package's node_modules (one tfjs-core
          // per worker); tfjs-core's per-file gradient registrations are bundled, as tsup does.
          build.onResolve({ filter: /^@tensorflow\/[^/]+$|^esbuild$/ }, (args) => ({ path: args.path, external: true }));
          build.onResolve({ filter: /^@vitlens\// }, (args) => {
            const [, pkg, sub] = /^@vitlens\/([^/]+)(?:\/(.*))?$/.exec(args.path) ?? [];
            const file = path.join(packagesDir, pkg as string, 'src', sub ?? '', 'index.ts');
            return existsSync(file) ? { path: file } : { errors: [{ text: `no sources for ${args.path} at ${file}` }] };
          });
        },
      },
    ],
  });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, result.outputFiles[0]?.contents ?? new Uint8Array());
  renameSync(tmp, out);
  return out;
}
