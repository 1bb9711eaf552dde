import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a library user of the built package gets: a project with @vitlens/cli in its node_modules
// (a link to this package, as a workspace or `npm link` installs it) imports and requires it.
const cliRoot = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
let project: string;

beforeAll(async () => {
  for (const file of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) {
    expect(existsSync(path.join(cliRoot, 'dist', file)), `dist/${file} is missing: build @vitlens/cli first`).toBe(true);
  }
  project = await fs.mkdtemp(path.join(os.tmpdir(), 'vitlens-cli-user-'));
  await fs.mkdir(path.join(project, 'node_modules', '@vitlens'), { recursive: true });
  await fs.symlink(cliRoot, path.join(project, 'node_modules', '@vitlens', 'cli'), 'dir');
  await fs.writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'user', private: true }));
});

afterAll(async () => {
  if (project) await fs.rm(project, { recursive: true, force: true });
});

const script = (load: string) =>
  `${load}\n` +
  "const dir = cli.defaultCheckpointDir();\n" +
  "console.log(JSON.stringify({ runCli: typeof cli.runCli, createProgram: typeof cli.createProgram, name: cli.createProgram().name(), dir, hasConfig: fs.existsSync(dir + '/config.json') }));\n";

describe('@vitlens/cli as a library', () => {
  it('resolves import and require to the built ESM and CJS entries, with types first in each condition', async () => {
    const manifest = JSON.parse(readFileSync(path.join(cliRoot, 'package.json'), 'utf8')) as {
      exports: Record<string, Record<string, Record<string, string>>>;
    };
    const root = manifest.exports['.'];
    expect(Object.keys(root?.import ?? {})).toEqual(['types', 'default']);
    expect(Object.keys(root?.require ?? {})).toEqual(['types', 'default']);
    const req = createRequire(path.join(project, 'package.json'));
    expect(await fs.realpath(req.resolve('@vitlens/cli'))).toBe(path.join(cliRoot, 'dist', 'index.cjs'));
  });

  it('exports runCli, createProgram and defaultCheckpointDir (the shipped model) to import and to require', async () => {
    await fs.writeFile(path.join(project, 'esm.mjs'), script("import fs from 'node:fs';\nimport * as cli from '@vitlens/cli';"));
    await fs.writeFile(path.join(project, 'cjs.cjs'), script("const fs = require('node:fs');\nconst cli = require('@vitlens/cli');"));
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      const { stdout } = await run(process.execPath, [file], { cwd: project, encoding: 'utf8' });
      expect(JSON.parse(stdout), file).toEqual({
        runCli: 'function',
        createProgram: 'function',
        name: 'vitlens',
        dir: path.join(cliRoot, 'dist', 'models', 'default'),
        hasConfig: true,
      });
    }
  });

  it('type-checks an ESM and a CJS consumer under moduleResolution nodenext', async () => {
    // The same source as .mts (resolved with the import condition) and .cts (the require condition).
    const source =
      "import { createProgram, defaultCheckpointDir, runCli } from '@vitlens/cli';\n" +
      "export const code: Promise<number> = runCli(['node', 'vitlens', '--version']);\n" +
      'export const dir: string = defaultCheckpointDir();\n' +
      'export const name: string = createProgram().name();\n' +
      '// @ts-expect-error runCli takes the arguments as an array\n' +
      "runCli('info');\n";
    await fs.writeFile(path.join(project, 'esm.mts'), source);
    await fs.writeFile(path.join(project, 'cjs.cts'), source);
    const tsc = createRequire(path.join(cliRoot, 'package.json')).resolve('typescript/bin/tsc');
    const typeRoots = path.join(cliRoot, '..', '..', 'node_modules', '@types'); // @types/node, as the user's project has it
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--typeRoots', typeRoots, 'esm.mts', 'cjs.cts'];
    const result = await run(process.execPath, [tsc, ...args], { cwd: project, encoding: 'utf8' }).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
    expect(result.stdout).toBe('');
  });
});
