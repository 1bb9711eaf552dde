import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Plugin, build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// An application that uses every vitlens library ends up with exactly one @tensorflow/tfjs-core:
// no vitlens dist carries tfjs code of its own (gradients are tfjs-core's definitions rewritten
// against the public entry, registered by @vitlens/core), so a bundler ships one Engine, and in
// Node every package sees the engine the app sees.
//
// The libraries are built here with their own tsup.config.ts (no .d.ts, into a scratch folder), so
// the test checks the build configuration of the current tree without depending on `dist/`.

const run = promisify(execFile);
const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
const coreDir = fileURLToPath(new URL('../', import.meta.url));
// Inside core's node_modules: the bundles run from here find @tensorflow/* as core does.
const scratch = path.join(coreDir, 'node_modules', '.cache', 'vitlens-one-tfjs-core');
const LIBRARIES = ['core', 'cifar10-data', 'vit-model', 'train-loop', 'attention-viz'] as const;
const NODE_ENTRIES: Record<string, boolean> = { core: true, 'cifar10-data': true, 'vit-model': true, 'train-loop': false, 'attention-viz': true };

/** One per copy of tfjs-core's engine.js (`ns._tfengine = new Engine(environment)`, ES5 or ES2017 builds alike). */
const countEngines = (code: string) => (code.match(/\._tfengine\s*=\s*new\b/g) ?? []).length;

/** @vitlens/<pkg>[/node] → the scratch build; every other non-tfjs package stays external (not tfjs, not counted). */
function libraries(format: 'esm' | 'cjs', options: { externalTfjs: boolean }): Plugin {
  return {
    name: 'vitlens-scratch-builds',
    setup(b) {
      b.onResolve({ filter: /^@vitlens\/[\w-]+(\/node)?$/ }, (args) => {
        const [, pkg, sub] = /^@vitlens\/([\w-]+)(\/node)?$/.exec(args.path) ?? [];
        const file = `${sub ? 'node/index' : 'index'}.${format === 'esm' ? 'js' : 'cjs'}`;
        return { path: path.join(scratch, pkg ?? '', file) };
      });
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@vitlens/')) return undefined;
        if (args.path.startsWith('@tensorflow/tfjs-node')) return { path: args.path, external: true };
        if (args.path.startsWith('@tensorflow/')) return options.externalTfjs ? { path: args.path, external: true } : undefined;
        return { path: args.path, external: true };
      });
    },
  };
}

/** An app using every library entry; `import * as` keeps every export in the bundle. */
function consumerSource(node: boolean): string {
  const lines = ["import * as tf from '@tensorflow/tfjs-core';", "import '@tensorflow/tfjs-backend-cpu';"];
  const names: string[] = ['tf'];
  for (const pkg of LIBRARIES) {
    const id = pkg.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    lines.push(`import * as ${id} from '@vitlens/${pkg}';`);
    names.push(id);
    if (node && NODE_ENTRIES[pkg]) {
      lines.push(`import * as ${id}Node from '@vitlens/${pkg}/node';`);
      names.push(`${id}Node`);
    }
  }
  lines.push(`globalThis.__vitlensConsumer = [${names.join(', ')}];`);
  return lines.join('\n');
}

/** Run in Node against the real @tensorflow packages: the app's tf and @vitlens/core's tf, one engine. */
const RUNTIME_CHECK = `
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, tf as coreTf } from '@vitlens/core';
import { ViTForImageClassification, createConfig } from '@vitlens/vit-model';
import { crossEntropy } from '@vitlens/train-loop';

async function main() {
  const results = [];
  for (const prefer of process.argv.slice(2)) {
    const choice = await initBackend({ prefer });
    const before = tf.memory().numTensors;
    const a = tf.ones([2, 2]);
    const b = coreTf.zeros([3]);
    const seen = { byApp: tf.memory().numTensors - before, byCore: coreTf.memory().numTensors - before };
    tf.dispose([a, b]);
    const model = ViTForImageClassification.create(
      createConfig('vit-mini-patch4-32', {
        hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16, image_size: 8,
        id2label: { 0: 'a', 1: 'b', 2: 'c' },
      }),
      { seed: 1 },
    );
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 2);
    const out = model.attentionGradients(x, 1);
    const attentionGradient = tf.tidy(() => tf.sum(tf.abs(out.gradients[0])).dataSync()[0]);
    const lossGradient = tf.tidy(() => {
      const g = tf.grad((logits) => crossEntropy(logits, { labels: Int32Array.from([0, 2]) }))(out.logits);
      return Array.from(g.dataSync());
    });
    tf.dispose([x, out.logits, ...out.attentions, ...out.gradients]);
    model.dispose();
    results.push({
      backend: choice.name,
      sameEngine: tf.engine() === coreTf.engine(),
      seen,
      attentionGradient,
      lossGradient,
    });
  }
  console.log(JSON.stringify(results));
}
main();
`;

interface RuntimeResult {
  backend: string;
  sameEngine: boolean;
  seen: { byApp: number; byCore: number };
  attentionGradient: number;
  lossGradient: number[];
}

beforeAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  // one process per package: tsup reads the config, package.json and tsconfig from the cwd
  for (const pkg of LIBRARIES) {
    const outDir = path.join(scratch, pkg);
    const script = `import { build } from 'tsup'; await build({ dts: false, sourcemap: false, silent: true, clean: true, outDir: ${JSON.stringify(outDir)} });`;
    await run(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(packagesDir, pkg) });
  }
}, 600_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('one @tensorflow/tfjs-core for an app using every vitlens library', () => {
  it('no library build contains tfjs-core code (an Engine, or modules from tfjs-core/dist)', async () => {
    for (const pkg of LIBRARIES) {
      const dir = path.join(scratch, pkg);
      const files = (await readdir(dir, { recursive: true })).filter((f) => /\.c?js$/.test(f));
      expect(files.length, pkg).toBeGreaterThan(0);
      for (const file of files) {
        const code = await readFile(path.join(dir, file), 'utf8');
        expect(countEngines(code), `${pkg}/${file}`).toBe(0);
        expect(code, `${pkg}/${file}`).not.toMatch(/\bclass Engine\b|_tfengine|tfjs-core\/dist\//);
      }
    }
  });

  it('a browser bundle (esbuild, platform browser) holds exactly one Engine', async () => {
    const result = await build({
      stdin: { contents: consumerSource(false), resolveDir: coreDir, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'error',
      external: ['node:*', ...builtinModules],
      plugins: [libraries('esm', { externalTfjs: false })],
    });
    const code = result.outputFiles[0]?.text ?? '';
    expect(code.length).toBeGreaterThan(500_000); // tfjs-core and cpu are in it
    expect(countEngines(code)).toBe(1);
  });

  it('a Node bundle (esbuild, platform node, the CommonJS builds) holds exactly one Engine', async () => {
    const result = await build({
      stdin: { contents: consumerSource(true), resolveDir: coreDir, loader: 'js' },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'error',
      plugins: [libraries('cjs', { externalTfjs: false })],
    });
    const code = result.outputFiles[0]?.text ?? '';
    expect(code.length).toBeGreaterThan(500_000);
    expect(countEngines(code)).toBe(1);
  });

  it.each(['esm', 'cjs'] as const)(
    'in Node (%s), @vitlens/core\'s tf and the app\'s tf are one engine, and gradients work on cpu, wasm and tensorflow',
    async (format) => {
      const file = path.join(scratch, `runtime-check.${format === 'esm' ? 'mjs' : 'cjs'}`);
      const result = await build({
        stdin: { contents: RUNTIME_CHECK, resolveDir: coreDir, loader: 'js' },
        bundle: true,
        format,
        platform: 'node',
        target: 'node20',
        write: false,
        logLevel: 'error',
        plugins: [libraries(format, { externalTfjs: true })],
      });
      await writeFile(file, result.outputFiles[0]?.text ?? '');
      const { stdout } = await run(process.execPath, [file, 'cpu', 'wasm', 'tensorflow'], { cwd: coreDir });
      const results = JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as RuntimeResult[];
      expect(results.map((r) => r.backend)).toEqual(['cpu', 'wasm', 'tensorflow']);
      for (const r of results) {
        expect(r.sameEngine, r.backend).toBe(true);
        // a tensor made through either tf is counted by both
        expect(r.seen, r.backend).toEqual({ byApp: 2, byCore: 2 });
        expect(r.attentionGradient, r.backend).toBeGreaterThan(0);
        expect(Number.isFinite(r.attentionGradient), r.backend).toBe(true);
        // d mean CE / d logits: each row sums to 0
        expect(Math.abs(r.lossGradient.slice(0, 3).reduce((s, v) => s + v, 0)), r.backend).toBeLessThan(1e-5);
        expect(r.lossGradient.some((v) => v !== 0), r.backend).toBe(true);
      }
    },
    300_000,
  );
});
