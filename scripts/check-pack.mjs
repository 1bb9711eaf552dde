#!/usr/bin/env node
// Packs every public workspace package the way `pnpm publish` would and checks what ships:
//   - dist/ with the ESM + CJS entries and their types (dist/index.js, .cjs, .d.ts, .d.cts) for libraries,
//   - every file package.json points at (exports, main, module, types, bin),
//   - README.md,
//   - no tests, fixtures, sources or build configs, and no `workspace:` specifiers left in package.json.
// Private packages (apps/web, bench) are skipped. Run after `pnpm build`:
//   node scripts/check-pack.mjs            (all public packages)
//   node scripts/check-pack.mjs @vitlens/core @vitlens/cli
// Exits 1 listing every problem found.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot as root, runPnpm } from './pnpm.mjs';

const LIBRARY_FILES = ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts'];
const FORBIDDEN = [
  { re: /^(test|tests|__tests__)\//, why: 'tests' },
  { re: /(^|\/)fixtures?\//, why: 'test fixtures' },
  { re: /\.(test|spec)\.[cm]?[jt]sx?$/, why: 'a test file' },
  { re: /^src\//, why: 'sources' },
  { re: /(^|\/)tsconfig[^/]*\.json$/, why: 'a tsconfig' },
  { re: /^(vitest|tsup|vite)\.config\.[cm]?[jt]s$/, why: 'a build/test config' },
  { re: /(^|\/)(node_modules|\.turbo)\//, why: 'build cache or dependencies' },
  { re: /^examples\//, why: 'an example (the README holds each one)' },
];

const CAPTURE = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 };

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, ...CAPTURE });
}

function pnpm(args, cwd) {
  return runPnpm(args, { cwd, ...CAPTURE });
}

/** Workspace packages from pnpm itself, so the list follows pnpm-workspace.yaml. */
function workspacePackages() {
  const list = JSON.parse(pnpm(['ls', '-r', '--depth', '-1', '--json'], root));
  return list
    .filter((p) => p.path !== root && p.name)
    .map((p) => ({ name: p.name, dir: p.path, manifest: JSON.parse(fs.readFileSync(path.join(p.path, 'package.json'), 'utf8')) }));
}

/** Every relative file path a manifest points at (exports conditions, main, module, types, bin). */
function referencedFiles(manifest) {
  const out = new Set();
  const add = (value) => {
    if (typeof value === 'string') {
      if (value.startsWith('./') && !value.includes('*')) out.add(path.posix.normalize(value.slice(2)));
    } else if (value && typeof value === 'object') {
      for (const v of Object.values(value)) add(v);
    }
  };
  add(manifest.exports);
  add(manifest.main && `./${path.posix.normalize(manifest.main)}`);
  add(manifest.module && `./${path.posix.normalize(manifest.module)}`);
  add(manifest.types && `./${path.posix.normalize(manifest.types)}`);
  add(typeof manifest.bin === 'string' ? `./${path.posix.normalize(manifest.bin)}` : manifest.bin && Object.fromEntries(Object.entries(manifest.bin).map(([k, v]) => [k, `./${path.posix.normalize(v)}`])));
  return [...out];
}

function checkPackage(pkg, tmp) {
  const problems = [];
  const dest = fs.mkdtempSync(path.join(tmp, `${pkg.name.replace(/[@/]/g, '_')}-`));
  try {
    pnpm(['pack', '--pack-destination', dest], pkg.dir);
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim() || error.message;
    return [`pnpm pack failed: ${output}`];
  }
  const tarballs = fs.readdirSync(dest).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) return [`pnpm pack produced ${tarballs.length} tarballs in ${dest}, expected 1`];
  const tarball = path.join(dest, tarballs[0]);
  const files = run('tar', ['-tzf', tarball], dest)
    .split('\n')
    .filter((l) => l && !l.endsWith('/'))
    .map((l) => l.replace(/^package\//, ''));
  const has = new Set(files);

  const isLibrary = pkg.manifest.exports && typeof pkg.manifest.exports === 'object' && '.' in pkg.manifest.exports;
  const required = new Set(['package.json', 'README.md', ...(isLibrary ? LIBRARY_FILES : []), ...referencedFiles(pkg.manifest)]);
  for (const file of required) {
    if (!has.has(file)) {
      const hint = file.startsWith('dist/') ? ' (run `pnpm build` first?)' : '';
      problems.push(`missing ${file}${hint}`);
    }
  }
  if (!files.some((f) => f.startsWith('dist/'))) problems.push('no dist/ at all');
  for (const file of files) {
    const bad = FORBIDDEN.find((f) => f.re.test(file));
    if (bad) problems.push(`ships ${bad.why}: ${file}`);
  }
  // pnpm rewrites workspace: ranges to real versions when packing; check it did.
  const packed = JSON.parse(run('tar', ['-xOzf', tarball, 'package/package.json'], dest));
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(packed[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`packed package.json ${field}.${dep} is still '${range}'`);
    }
  }
  return { problems, files, size: fs.statSync(tarball).size };
}

const only = process.argv.slice(2);
const packages = workspacePackages().filter((p) => only.length === 0 || only.includes(p.name));
const unknown = only.filter((n) => !packages.some((p) => p.name === n));
if (unknown.length > 0) {
  console.error(`check-pack: no workspace package named ${unknown.join(', ')}`);
  process.exit(1);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vitlens-check-pack-'));
let failed = 0;
try {
  for (const pkg of packages) {
    if (pkg.manifest.private) {
      console.log(`skip  ${pkg.name} (private)`);
      continue;
    }
    const result = checkPackage(pkg, tmp);
    const problems = Array.isArray(result) ? result : result.problems;
    if (problems.length === 0) {
      console.log(`ok    ${pkg.name}: ${result.files.length} files, ${(result.size / 1024).toFixed(1)} KiB packed`);
    } else {
      failed++;
      console.log(`FAIL  ${pkg.name} (${path.relative(root, pkg.dir)}):`);
      for (const p of problems) console.log(`      - ${p}`);
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
if (failed > 0) {
  console.error(`check-pack: ${failed} package(s) would publish a broken tarball`);
  process.exit(1);
}
