// The one way vitlens's scripts and tests call pnpm: the pnpm that is running them, else the version
// pinned in the root package.json's `packageManager` through npx. Never a bare `pnpm`: a machine with
// only Node and npm (the README's premise, and CI's) has none on its PATH.
//
// Under `pnpm run` / `pnpm test`, npm_execpath is that pnpm (pnpm.cjs, or a standalone binary).
// pnpm does not put itself on PATH for its scripts: `npx -y pnpm@…` does, through npx's own bin
// folder, so a bare `pnpm` works in what `npx -y pnpm@… test` runs and fails in a script that node
// runs directly (check-pack.mjs in .ci/run did, on a machine without pnpm).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `pnpm@10.34.8`: the root package.json's `packageManager`, without a `+sha…` suffix. */
export function pinnedPnpm(root = repoRoot) {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const spec = String(manifest.packageManager ?? '').split('+')[0];
  if (!/^pnpm@\d+\.\d+\.\d+$/.test(spec)) {
    throw new Error(`${path.join(root, 'package.json')}: packageManager is '${manifest.packageManager}', expected pnpm@<major.minor.patch>`);
  }
  return spec;
}

/** `{ command, args }` that run pnpm: prepend `args` to pnpm's own arguments. */
export function pnpmCommand(env = process.env) {
  const execpath = env.npm_execpath ?? '';
  const base = path.basename(execpath);
  // pnpm.cjs (npm's pnpm package, run by node) or a standalone `pnpm` / `pnpm.exe` binary.
  if (/^pnpm\.c?js$/.test(base)) return { command: process.execPath, args: [execpath] };
  if (/^pnpm(\.exe)?$/.test(base)) return { command: execpath, args: [] };
  return { command: 'npx', args: ['-y', pinnedPnpm()] };
}

/** Run pnpm synchronously (execFileSync options; `encoding: 'utf8'` returns its stdout as a string). */
export function runPnpm(args, options = {}) {
  const { command, args: prefix } = pnpmCommand();
  return execFileSync(command, [...prefix, ...args], options);
}
