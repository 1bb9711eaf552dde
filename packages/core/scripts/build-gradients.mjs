// Writes src/gradients/tfjs-gradients.ts: tfjs-core's gradient definitions (the configs its
// `register_all_gradients` module registers) rewritten to import everything else from the public
// `@tensorflow/tfjs-core` entry, so vitlens registers them on the app's one tfjs-core instead of
// shipping a second engine and op set. Run after upgrading @tensorflow/tfjs-core:
//   pnpm --filter @vitlens/core build:gradients
// test/gradients.test.ts fails while the checked-in file differs from what this script writes.
//
// Why: tfjs-core registers no gradients itself (the @tensorflow/tfjs umbrella imports
// `dist/register_all_gradients`), its public index does not export the configs, and that module is
// ESM with extensionless imports Node cannot load. Bundling it as it is drags in tfjs-core's
// engine, tensor class and ~300 ops (a second `Engine` class, ~350 kB per package).
import { createRequire } from 'node:module';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const PUBLIC = '@tensorflow/tfjs-core';
const tfcDir = dirname(require.resolve(`${PUBLIC}/package.json`));
const dist = join(tfcDir, 'dist');
const tfcVersion = JSON.parse(await readFile(join(tfcDir, 'package.json'), 'utf8')).version;
// The public entry as Node loads it (CommonJS): what a name resolves to at run time.
const publicApi = require(PUBLIC);

/** Namespaces of the public entry that re-export internal modules (`backend_util` holds axis_util, conv_util, …). */
const NAMESPACES = ['backend_util', 'util', 'broadcast_util', 'slice_util'];
/**
 * Internal names with no public export, defined from the public API (a virtual module). `ENGINE`
 * forwards `runKernel` (all the gradients use of it, checked below) to the engine `engine()`
 * returns, looked up at call time. `convertToTensor` is only reached by the internal backprop ops
 * (maxPoolGrad, avgPoolGrad, …), to which gradient functions pass tensors.
 */
const SHIMS = 'vitlens:tfjs-core-shims';
const SHIM_NAMES = ['ENGINE', 'convertToTensor'];
const SHIM_SOURCE = `import { engine, Tensor, tensor } from '${PUBLIC}';
export const ENGINE = { runKernel: (kernelName, inputs, attrs) => engine().runKernel(kernelName, inputs, attrs) };
export function convertToTensor(x, argName, functionName, parseAsDtype = 'numeric') {
  if (x instanceof Tensor) return x;
  if (x == null) throw new Error(\`Argument '\${argName}' passed to '\${functionName}' must be a Tensor or TensorLike, but got 'null'\`);
  return tensor(x, undefined, parseAsDtype === 'numeric' || parseAsDtype === 'string_or_numeric' ? undefined : parseAsDtype);
}
`;
/** tfjs-core's runtime: bundling any of these would ship a second engine, registry or tensor class. */
const FORBIDDEN = ['engine.js', 'tensor.js', 'environment.js', 'global_util.js', 'kernel_registry.js', 'tape.js', 'index.js', 'base.js'];

const isGradientFile = (file) => file.startsWith(join(dist, 'gradients') + sep) || file === join(dist, 'register_all_gradients.js');

function locate(name, moduleBase) {
  if (SHIM_NAMES.includes(name)) return { shim: true };
  if (name in publicApi) return { top: name };
  const namespaces = publicApi[moduleBase] && typeof publicApi[moduleBase] === 'object' ? [moduleBase, ...NAMESPACES] : NAMESPACES;
  for (const ns of namespaces) if (publicApi[ns] && name in publicApi[ns]) return { ns };
  return undefined;
}

/** Rewrites one tfjs-core file's imports of non-gradient modules to the public entry. */
function rewrite(file, source) {
  let helper = 0;
  return source.replace(/^import\s+(.+?)\s+from\s+'(\.{1,2}\/[^']+)';$/gm, (statement, clause, spec) => {
    const target = resolve(dirname(file), spec);
    if (isGradientFile(`${target}.js`)) return statement;
    const base = target.split(sep).pop();
    const star = /^\*\s+as\s+(\w+)$/.exec(clause);
    if (star) {
      const local = star[1];
      const used = [...new Set([...source.matchAll(new RegExp(`\\b${local}\\.(\\w+)`, 'g'))].map((m) => m[1]))];
      const candidates = publicApi[base] && typeof publicApi[base] === 'object' ? [base, ...NAMESPACES] : NAMESPACES;
      const ns = candidates.find((n) => publicApi[n] && used.every((u) => u in publicApi[n]));
      if (ns === undefined) return statement; // bundled; the forbidden-module check below catches a runtime module
      return `import { ${ns} as ${local} } from '${PUBLIC}';`;
    }
    const named = /^\{([^}]*)\}$/.exec(clause);
    if (!named) throw new Error(`${relative(dist, file)}: cannot rewrite \`${statement}\``);
    const top = [];
    const lines = [];
    const kept = [];
    for (const part of named[1].split(',').map((s) => s.trim()).filter(Boolean)) {
      const [name, local = name] = part.split(/\s+as\s+/);
      const where = locate(name, base);
      if (where === undefined) kept.push(part);
      else if (where.top) top.push(name === local ? name : `${name} as ${local}`);
      else if (where.ns) {
        const alias = `__tfc_${where.ns}_${helper++}`;
        lines.push(`import { ${where.ns} as ${alias} } from '${PUBLIC}';`, `const ${local} = ${alias}.${name};`);
      } else lines.push(`import { ${name === local ? name : `${name} as ${local}`} } from '${SHIMS}';`);
    }
    if (top.length > 0) lines.unshift(`import { ${top.join(', ')} } from '${PUBLIC}';`);
    if (kept.length > 0) lines.push(`import { ${kept.join(', ')} } from '${spec}';`);
    return lines.join('\n');
  });
}

const tfjsCorePublic = {
  name: 'tfjs-core-public',
  setup(b) {
    // every rewritten import goes through one `export *` module, so the output holds a single
    // `import * as … from '@tensorflow/tfjs-core'` instead of one import per name and file
    b.onResolve({ filter: /^@tensorflow\/tfjs-core$/ }, (args) =>
      args.namespace === 'public' ? { path: PUBLIC, external: true } : { path: PUBLIC, namespace: 'public' },
    );
    const names = Object.keys(publicApi).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
    b.onLoad({ filter: /.*/, namespace: 'public' }, () => ({ contents: `export { ${names.join(', ')} } from '${PUBLIC}';`, loader: 'js', resolveDir: here }));
    b.onResolve({ filter: /^vitlens:tfjs-core-shims$/ }, () => ({ path: SHIMS, namespace: 'shims' }));
    b.onLoad({ filter: /.*/, namespace: 'shims' }, () => ({ contents: SHIM_SOURCE, loader: 'js', resolveDir: here }));
    b.onLoad({ filter: /\.js$/ }, async ({ path }) => {
      if (!path.startsWith(dist + sep)) return undefined;
      let source = await readFile(path, 'utf8');
      source = source.replace(/\/\/# sourceMappingURL=.*$/m, '');
      if (path === join(dist, 'register_all_gradients.js')) {
        // export the list instead of registering it: @vitlens/core decides when, and skips
        // gradients someone else (the @tensorflow/tfjs umbrella) registered first
        source = source
          .replace(/^import \{ registerGradient \} from '\.\/kernel_registry';$/m, '')
          .replace(/for \(const gradientConfig of gradConfigs\) \{\s*registerGradient\(gradientConfig\);\s*\}/, 'export { gradConfigs };');
        if (!source.includes('export { gradConfigs };')) throw new Error('register_all_gradients.js: its registration loop changed shape');
      }
      return { contents: rewrite(path, source), loader: 'js' };
    });
  },
};

const result = await build({
  entryPoints: [join(dist, 'register_all_gradients.js')],
  absWorkingDir: tfcDir,
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  write: false,
  metafile: true,
  legalComments: 'none',
  treeShaking: true,
  plugins: [tfjsCorePublic],
});

const bundled = Object.keys(result.metafile.inputs).filter((p) => !/^(shims|public):/.test(p)).map((p) => resolve(tfcDir, p));
const internal = bundled.filter((p) => !isGradientFile(p)).map((p) => relative(dist, p));
const forbidden = internal.filter((p) => FORBIDDEN.includes(p));
if (forbidden.length > 0) throw new Error(`the gradient bundle would contain tfjs-core's runtime (${forbidden.join(', ')}): map their names to the public entry`);
let code = result.outputFiles[0].text;
const engineUses = [...new Set([...code.matchAll(/\bENGINE\.(\w+)/g)].map((m) => m[1]))];
if (engineUses.some((u) => u !== 'runKernel')) throw new Error(`the gradients use ENGINE.${engineUses.join(', ENGINE.')}; the shim has only runKernel`);
if (/class Engine\b|_tfengine/.test(code)) throw new Error("the gradient bundle contains tfjs-core's Engine");

code = code.replace(/^export \{\s*gradConfigs\s*\};\s*$/m, '').trimEnd();
// keep only the public names the gradients use (the virtual module re-exported all of them)
code = code.replace(/^\/\/ public:.*\nimport \{([^}]*)\} from "@tensorflow\/tfjs-core";\n/m, (_, list) => {
  // string contents are not references (`Rank of input …`)
  const rest = code.replace(/^import \{[^}]*\} from "@tensorflow\/tfjs-core";$/m, '').replace(/`[^`]*`|"[^"\n]*"/g, '""');
  const used = list.split(',').map((n) => n.trim()).filter((n) => n && new RegExp(`(?<![\\w$.])${n.replace('$', '\\$')}(?![\\w$])`).test(rest));
  const lines = [];
  for (const name of used.sort()) {
    if (lines.length === 0 || lines.at(-1).length + name.length > 96) lines.push(`  ${name},`);
    else lines[lines.length - 1] += ` ${name},`;
  }
  return `import {\n${lines.join('\n')}\n} from '${PUBLIC}';\n`;
});
if (!code.includes(`} from '${PUBLIC}';`)) throw new Error('the public import was not found in the bundle');
const text = `// GENERATED by scripts/build-gradients.mjs from @tensorflow/tfjs-core ${tfcVersion} — do not edit by hand.
// @ts-nocheck
// biome-ignore-all lint: generated from tfjs-core's compiled JavaScript
/**
 * @license
 * Copyright 2020 Google LLC. All Rights Reserved.
 * Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file except
 * in compliance with the License. You may obtain a copy of the License at
 * http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software distributed under the License
 * is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express
 * or implied. See the License for the specific language governing permissions and limitations under
 * the License.
 */
// tfjs-core's gradient configs (src/gradients/*_grad.ts, the list in src/register_all_gradients.ts),
// importing only from the public entry. tfjs-core modules bundled besides the gradients:
// ${internal.length > 0 ? internal.join(', ') : 'none'}.
import type { GradConfig } from '@tensorflow/tfjs-core';

${code}

/** The tfjs-core these definitions come from. */
export const TFJS_GRADIENTS_VERSION = '${tfcVersion}';
/** Every gradient tfjs-core ${tfcVersion} defines (one per kernel, a few kernels listed twice as tfjs-core does). */
export const tfjsGradConfigs: GradConfig[] = gradConfigs;
`;

const outPath = join(here, '..', 'src', 'gradients', 'tfjs-gradients.ts');
if (process.argv.includes('--stdout')) {
  process.stdout.write(text);
} else {
  await writeFile(`${outPath}.tmp`, text);
  await rename(`${outPath}.tmp`, outPath);
  console.log(`wrote ${relative(process.cwd(), outPath)} (${text.length} bytes; bundled internals: ${internal.join(', ') || 'none'})`);
}
