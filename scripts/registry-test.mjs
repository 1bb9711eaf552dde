#!/usr/bin/env node
// The packages as npm users get them, through a real registry: a local Verdaccio on 127.0.0.1.
//
//   1. starts Verdaccio with a temporary storage and config: @vitlens/* live only there (no uplink),
//      everything else is proxied from the npm registry;
//   2. releases every public package to it with the project's own flow, on a temporary copy of the
//      workspace: `changeset version` (the pending changesets), then `changeset publish` (pnpm
//      publish, which turns `workspace:^` into the real versions);
//   3. installs from it as users do, each in a fresh folder: `npm install @vitlens/attention-viz`
//      alone (no @tensorflow/* may come with it), the libraries (core, cifar10-data, vit-model,
//      train-loop, attention-viz) with the tfjs peers their READMEs name, `npm i -g @vitlens/cli`
//      (into a temporary --prefix), and each public package alone;
//   4. runs `vitlens --help` / `vitlens info`, and every file of each package's examples/ (the
//      README's examples, see scripts/readme-examples.mjs) as written: .mjs and .cjs with Node
//      (cifar10-data's and train-loop's on a small image folder made from scripts/fixtures),
//      .ts type-checked with tsc, the page (element.html with element.ts and canvas.ts bundled by
//      esbuild) in headless Chromium with <vit-attention-map> rendering;
//   5. writes the installed sizes to results/installed-sizes.md.
//
// Run after `pnpm build` (`pnpm test:registry` builds first). Needs the npm registry for the
// third-party packages (Verdaccio's uplink) and Chromium (/usr/bin/chromium or $VITLENS_CHROMIUM).
//   node scripts/registry-test.mjs [--keep] [--no-browser]
// --keep leaves the temporary folder (registry storage, consumers) for a look; the last line is
// `N passed, N failed`, and the exit status is 1 when anything failed.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pinnedPnpm, pnpmCommand, repoRoot as root, runPnpm } from './pnpm.mjs';

const argv = process.argv.slice(2);
const KEEP = argv.includes('--keep');
const BROWSER = !argv.includes('--no-browser');
const CHROMIUM = process.env.VITLENS_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const UPLINK = 'https://registry.npmjs.org/';
// The tfjs packages the READMEs tell users to install next to the libraries (the libraries' install lines).
const TFJS_PEERS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'];
// The libraries an application installs together, whose examples run in it.
const LIBRARIES = ['@vitlens/core', '@vitlens/cifar10-data', '@vitlens/vit-model', '@vitlens/train-loop', '@vitlens/attention-viz'];
const FIXTURES = path.join(root, 'scripts/fixtures');
const IMAGE = path.join(FIXTURES, 'cifar10-horse-0000.jpg'); // a 32×32 CIFAR-10 horse
const CHECKPOINT = path.join(root, 'models/default');
const started = Date.now();

// ---------------------------------------------------------------------------------------------
// Reporting: every check is one line; a failed one says what and why. The last line counts them.

const results = [];
function pass(name, detail) {
  results.push({ name, ok: true });
  console.log(`ok    ${name}: ${detail}`);
}
function fail(name, why) {
  results.push({ name, ok: false, why });
  console.log(`FAIL  ${name}\n${indent(String(why))}`);
}
function indent(text, prefix = '      ') {
  return text.trimEnd().split('\n').map((l) => `${prefix}${l}`).join('\n');
}
/** Run a check; a thrown error fails it (and returns undefined) without stopping the others. */
async function check(name, fn) {
  const t0 = Date.now();
  const took = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  try {
    const detail = await fn();
    pass(name, `${typeof detail === 'string' ? `${detail}; ` : ''}${took()}`);
    return detail ?? true;
  } catch (error) {
    const cause = error?.cause ? ` (${error.cause.message ?? error.cause})` : '';
    fail(name, `${error?.message ?? error}${cause}\n(after ${took()})`);
    return undefined;
  }
}
/** A step later steps need: a failure ends the run. */
async function must(name, fn) {
  const out = await check(name, fn);
  if (out === undefined) finish(`stopped: '${name}' failed, and the rest depends on it`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Run a command; throws with its output (the tail) when it exits non-zero. */
function exec(command, args, { cwd, env, timeoutMs = 300_000, input } = {}) {
  try {
    return execFileSync(command, args, {
      cwd,
      env,
      input,
      encoding: 'utf8',
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: timeoutMs,
      maxBuffer: 64 << 20,
    });
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
    const tail = output.split('\n').slice(-40).join('\n');
    const how = error.signal ? `was killed (${error.signal}${error.signal === 'SIGTERM' ? `, over ${timeoutMs / 1000} s` : ''})` : `exited ${error.status}`;
    throw new Error(`\`${[command, ...args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\` in ${cwd ?? process.cwd()} ${how}\n${tail}`);
  }
}

/** fetch, retried a few times: a registry that is busy installing may drop a connection. */
async function fetchRetry(url, init) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (attempt >= 4) throw new Error(`${init?.method ?? 'GET'} ${url}: ${error.message}${error.cause ? ` (${error.cause.message ?? error.cause})` : ''}`);
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Installed size of a folder in KiB, as `du -sk` counts it (disk blocks). */
function duKiB(dir) {
  return Number(exec('du', ['-sk', dir]).split(/\s/)[0]);
}
const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;

/** Every installed package folder (name → versions) under a node_modules, nested ones included. */
function installedPackages(nodeModules) {
  const found = new Map();
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.name.startsWith('@') && entry.isDirectory()) {
        walk(full);
        continue;
      }
      const manifest = path.join(full, 'package.json');
      if (!fs.existsSync(manifest)) continue;
      const { name, version } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
      if (!found.has(name)) found.set(name, []);
      found.get(name).push(version);
      walk(path.join(full, 'node_modules'));
    }
  };
  walk(nodeModules);
  return found;
}

// ---------------------------------------------------------------------------------------------
// The workspace's public packages, from pnpm itself (as scripts/check-pack.mjs does)

function workspacePackages() {
  const list = JSON.parse(runPnpm(['ls', '-r', '--depth', '-1', '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  return list
    .filter((p) => p.path !== root && p.name)
    .map((p) => ({ name: p.name, dir: p.path, rel: path.relative(root, p.path), manifest: JSON.parse(fs.readFileSync(path.join(p.path, 'package.json'), 'utf8')) }));
}

// ---------------------------------------------------------------------------------------------
// Setup

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vitlens-registry-'));
let verdaccio;
let finished = false;

function cleanup() {
  if (verdaccio && verdaccio.exitCode === null) verdaccio.kill('SIGTERM');
  if (!KEEP) fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

function finish(note) {
  if (finished) return;
  finished = true;
  const failed = results.filter((r) => !r.ok);
  if (note) console.log(`\n${note}`);
  if (failed.length > 0) {
    console.log(`\nregistry-test: ${failed.length} check(s) failed:`);
    for (const r of failed) console.log(`  - ${r.name}: ${String(r.why).split('\n')[0]}`);
  }
  console.log(`registry-test: ${((Date.now() - started) / 1000).toFixed(0)} s${KEEP ? `; kept ${tmp}` : ''}`);
  console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
  process.exit(failed.length > 0 ? 1 : 0);
}

const packages = workspacePackages();
const publicPackages = packages.filter((p) => !p.manifest.private);
const byName = new Map(packages.map((p) => [p.name, p]));

await must('the packages are built', () => {
  const missing = [];
  for (const pkg of publicPackages) {
    for (const file of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts']) {
      if (!fs.existsSync(path.join(pkg.dir, file))) missing.push(`${pkg.rel}/${file}`);
    }
  }
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`npx -y ${pinnedPnpm()} build\` first (\`pnpm test:registry\` does)`);
  return `${publicPackages.map((p) => p.name).join(', ')}`;
});

// Verdaccio: its own storage and users in tmp; @vitlens/* without uplink, the rest proxied from npm.
const port = await freePort();
const registry = `http://127.0.0.1:${port}/`;
const registryDir = path.join(tmp, 'registry');
await must(`Verdaccio listens on ${registry}`, async () => {
  fs.mkdirSync(path.join(registryDir, 'storage'), { recursive: true });
  const config = path.join(registryDir, 'config.yaml');
  fs.writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(path.join(registryDir, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(path.join(registryDir, 'htpasswd'))}`,
      'uplinks:',
      '  npmjs:',
      `    url: ${UPLINK}`,
      '    timeout: 60s',
      '    max_fails: 5',
      'packages:',
      "  '@vitlens/*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: npmjs',
      'server:',
      '  keepAliveTimeout: 60',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  // its bin, from its package.json (the package's exports do not expose the file)
  const manifestPath = createRequire(path.join(root, 'package.json')).resolve('verdaccio/package.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const bin = path.join(path.dirname(manifestPath), typeof manifest.bin === 'string' ? manifest.bin : manifest.bin.verdaccio);
  const log = fs.openSync(path.join(registryDir, 'verdaccio.log'), 'a');
  verdaccio = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', log, log] });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (verdaccio.exitCode !== null) break;
    const up = await fetch(`${registry}-/ping`).then((r) => r.ok, () => false);
    if (up) return `storage ${registryDir}`;
    await new Promise((r) => setTimeout(r, 300));
  }
  const logText = fs.readFileSync(path.join(registryDir, 'verdaccio.log'), 'utf8');
  throw new Error(`Verdaccio did not answer /-/ping within 60 s (exit code ${verdaccio.exitCode})\n${logText.split('\n').slice(-20).join('\n')}`);
});

// A user to publish as (Verdaccio's htpasswd creates it on first login), and an npmrc with its token.
const npmrc = path.join(tmp, 'npmrc');
await must('a publishing user on the local registry', async () => {
  const res = await fetchRetry(`${registry}-/user/org.couchdb.user:vitlens-ci`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'vitlens-ci', password: `pw-${process.pid}-${Date.now()}` }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.token) throw new Error(`PUT /-/user answered ${res.status}: ${JSON.stringify(body)}`);
  const host = registry.replace(/^http:/, '');
  fs.writeFileSync(npmrc, `registry=${registry}\n${host}:_authToken=${body.token}\nfund=false\naudit=false\nupdate-notifier=false\n`);
});

// Children see only this registry and this npmrc: no npm_config_* from a pnpm that runs this script.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle|execpath|node_execpath|command)/i.test(k)));
// changesets calls a bare `pnpm`: a shim that runs the pinned one, first on PATH.
const shimDir = path.join(tmp, 'bin');
fs.mkdirSync(shimDir);
{
  const { command, args } = pnpmCommand();
  const quoted = [command, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  fs.writeFileSync(path.join(shimDir, 'pnpm'), `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });
}
const env = {
  ...cleanEnv,
  PATH: `${shimDir}${path.delimiter}${cleanEnv.PATH}`,
  npm_config_registry: registry,
  npm_config_userconfig: npmrc,
  npm_config_cache: path.join(tmp, 'npm-cache'),
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
  CI: cleanEnv.CI ?? 'true',
  // loadDataset's decoded-image cache (the examples' image folder) stays in the temporary folder.
  VITLENS_CACHE_DIR: path.join(tmp, 'vitlens-cache'),
};

await must(`the npm registry is reachable through Verdaccio's uplink (${UPLINK})`, async () => {
  const res = await fetchRetry(`${registry}commander`).catch((e) => ({ ok: false, status: e.message }));
  if (!res.ok) {
    throw new Error(
      `GET ${registry}commander answered ${res.status}: third-party packages come from ${UPLINK} through Verdaccio, so this test needs that registry (no network, no test)`,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Release: `changeset version` + `changeset publish` on a copy of the workspace's manifests and builds

const releaseDir = path.join(tmp, 'release');
const published = new Map(); // name → version
await must('changeset version on a copy of the workspace', () => {
  fs.mkdirSync(releaseDir);
  for (const file of ['package.json', 'pnpm-workspace.yaml']) fs.copyFileSync(path.join(root, file), path.join(releaseDir, file));
  fs.cpSync(path.join(root, '.changeset'), path.join(releaseDir, '.changeset'), { recursive: true });
  fs.writeFileSync(path.join(releaseDir, '.npmrc'), fs.readFileSync(npmrc));
  // @changesets/cli and its changelog module resolve from the release folder's node_modules.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(releaseDir, 'node_modules'), 'dir');
  for (const pkg of packages) {
    const dest = path.join(releaseDir, pkg.rel);
    fs.mkdirSync(dest, { recursive: true });
    fs.copyFileSync(path.join(pkg.dir, 'package.json'), path.join(dest, 'package.json'));
    if (pkg.manifest.private) continue;
    for (const entry of new Set([...(pkg.manifest.files ?? []), 'README.md', 'CHANGELOG.md', 'LICENSE'])) {
      const from = path.join(pkg.dir, entry);
      if (fs.existsSync(from)) fs.cpSync(from, path.join(dest, entry), { recursive: true, dereference: true });
    }
  }
  // pnpm publish reads each `workspace:` dependency's version from node_modules/<name>: link the copies.
  for (const pkg of packages) {
    const deps = { ...pkg.manifest.dependencies, ...pkg.manifest.devDependencies, ...pkg.manifest.peerDependencies, ...pkg.manifest.optionalDependencies };
    for (const [name, range] of Object.entries(deps)) {
      if (!String(range).startsWith('workspace:') || !byName.has(name)) continue;
      const link = path.join(releaseDir, pkg.rel, 'node_modules', name);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(path.join(releaseDir, byName.get(name).rel), link, 'dir');
    }
  }
  const changeset = path.join(root, 'node_modules/@changesets/cli/bin.js');
  exec(process.execPath, [changeset, 'version'], { cwd: releaseDir, env });
  for (const pkg of publicPackages) {
    const { version } = JSON.parse(fs.readFileSync(path.join(releaseDir, pkg.rel, 'package.json'), 'utf8'));
    published.set(pkg.name, version);
  }
  return [...published].map(([n, v]) => `${n}@${v}`).join(', ');
});

await must('changeset publish to the local registry', () => {
  const changeset = path.join(root, 'node_modules/@changesets/cli/bin.js');
  exec(process.execPath, [changeset, 'publish'], { cwd: releaseDir, env, timeoutMs: 600_000 });
});

await check('every public package is on the registry, with real versions for its @vitlens dependencies', async () => {
  const problems = [];
  for (const [name, version] of published) {
    const res = await fetchRetry(`${registry}${name.replace('/', '%2f')}`);
    if (!res.ok) {
      problems.push(`${name}: GET answered ${res.status}`);
      continue;
    }
    const doc = await res.json();
    const manifest = doc.versions?.[version];
    if (!manifest) {
      problems.push(`${name}: version ${version} is not there (has ${Object.keys(doc.versions ?? {}).join(', ') || 'none'})`);
      continue;
    }
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
        if (String(range).startsWith('workspace:')) problems.push(`${name}: ${field}.${dep} is '${range}'`);
        if (dep.startsWith('@vitlens/') && published.has(dep) && !range.includes(published.get(dep))) {
          problems.push(`${name}: ${field}.${dep} is '${range}', not the released ${published.get(dep)}`);
        }
      }
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return `${published.size} packages`;
});

// ---------------------------------------------------------------------------------------------
// Consumers

const sizes = []; // { what, kib, packages, tensorflow }
function consumer(name) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, private: true, version: '0.0.0' }, null, 2)}\n`);
  return dir;
}
function npmInstall(dir, specs, extra = []) {
  return exec('npm', ['install', '--no-audit', '--no-fund', ...extra, ...specs], { cwd: dir, env, timeoutMs: 600_000 });
}
function measure(what, dir, nodeModules = path.join(dir, 'node_modules')) {
  const installed = installedPackages(nodeModules);
  const entry = {
    what,
    kib: duKiB(nodeModules),
    packages: [...installed.values()].reduce((n, v) => n + v.length, 0),
    tensorflow: [...installed.keys()].filter((n) => n.startsWith('@tensorflow/')),
  };
  sizes.push(entry);
  return entry;
}

/** Run one example file with Node in `dir`; a non-zero exit, or output that `expect` does not match, fails it. */
function runExample(dir, file, args = [], expect) {
  const out = exec(process.execPath, [file, ...args], { cwd: dir, env, timeoutMs: 180_000 });
  if (expect && !expect.test(out)) throw new Error(`its output does not match ${expect}:\n${out.trim().split('\n').slice(-20).join('\n')}`);
  return out.trim().split('\n').length;
}

/**
 * A small image folder, `<dir>/train/<class>/<NNNN>.jpg`, from the committed
 * scripts/fixtures/cifar10-<class>-<NNNN>.jpg (32×32 CIFAR-10 JPEGs); returns `{ dir, summary }`.
 */
function fixtureImageFolder(dir) {
  const perClass = new Map();
  for (const name of fs.readdirSync(FIXTURES).sort()) {
    const m = name.match(/^cifar10-([a-z]+)-(\d+)\.jpg$/);
    if (!m) continue;
    fs.mkdirSync(path.join(dir, 'train', m[1]), { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, name), path.join(dir, 'train', m[1], `${m[2]}.jpg`));
    perClass.set(m[1], (perClass.get(m[1]) ?? 0) + 1);
  }
  if (perClass.size < 2 || Math.min(...perClass.values()) < 2) {
    throw new Error(`${FIXTURES}: the examples' image folder needs 2 or more classes of 2 or more cifar10-<class>-<NNNN>.jpg each, found ${JSON.stringify(Object.fromEntries(perClass))}`);
  }
  return { dir, summary: [...perClass].map(([c, n]) => `${n} ${c}`).join(', ') };
}
const images = await must("the examples' image folder from scripts/fixtures", () => fixtureImageFolder(path.join(tmp, 'images')));

/**
 * How each library example runs in the application: one list of arguments per run (none: not run
 * here), and a line its output must contain.
 */
function exampleRuns(short, file) {
  switch (`${short}/${file}`) {
    case 'attention-viz/visualize.mjs':
      return []; // run above, with its optional peers
    case 'cifar10-data/batches.mjs':
      return [{ args: [images.dir], expect: /^tensors left: 0$/m }];
    case 'cifar10-data/first-batch.cjs':
      return [{ args: [images.dir], expect: /images \[\d+,32,32,3\] float32/ }];
    case 'train-loop/train.mjs': // the toy set built in memory, then the image folder
      return [[], [images.dir]].map((args) => ({ args, expect: /^done after \d+ steps[\s\S]*^validation: \d+ images, accuracy/m }));
    case 'train-loop/train.cjs':
      return [{ args: [], expect: /^done: \d+ steps[\s\S]*^Validation Accuracy/m }];
  }
  return [{ args: short === 'vit-model' ? [CHECKPOINT, IMAGE] : [] }];
}

/** A package's examples, copied into the consumer (so they import the installed package by name). */
function copyExamples(pkgName, dir) {
  const pkg = byName.get(pkgName);
  const from = path.join(pkg.dir, 'examples');
  if (!fs.existsSync(from)) return { to: null, files: [] };
  const to = path.join(dir, `examples-${pkgName.split('/')[1]}`);
  fs.cpSync(from, to, { recursive: true });
  return { to, files: fs.readdirSync(to).sort() };
}

// 1. attention-viz alone: light, nothing from TensorFlow.js.
const vizDir = consumer('attention-viz-alone');
const vizInstalled = await check('npm install @vitlens/attention-viz (alone)', () => {
  npmInstall(vizDir, ['@vitlens/attention-viz']);
  const m = measure('@vitlens/attention-viz', vizDir);
  return `${mib(m.kib)}, ${m.packages} package(s)`;
});
if (vizInstalled) {
  await check('@vitlens/attention-viz alone brings no @tensorflow/*, @vitlens/core, canvas or fonts', () => {
    const installed = [...installedPackages(path.join(vizDir, 'node_modules')).keys()];
    const heavy = installed.filter((n) => n.startsWith('@tensorflow/') || n === '@vitlens/core' || n.startsWith('@napi-rs/') || n === 'dejavu-fonts-ttf' || n === 'pngjs');
    if (heavy.length > 0) throw new Error(`installed with it: ${heavy.join(', ')} (all of node_modules: ${installed.join(', ')})`);
    return `node_modules holds ${installed.join(', ')}`;
  });
  const { to, files } = copyExamples('@vitlens/attention-viz', vizDir);
  for (const file of files.filter((f) => /\.(mjs|cjs)$/.test(f) && f !== 'visualize.mjs')) {
    await check(`attention-viz examples/${file} runs with only the package installed`, () => `${runExample(to, file)} line(s) of output`);
  }
  await check('attention-viz/node without its optional peers names the package to install', () => {
    const script = "import('@vitlens/attention-viz/node').then((m) => m.encodePng({ data: new Uint8Array(3), width: 1, height: 1 }))";
    let message = '';
    try {
      exec(process.execPath, ['-e', script], { cwd: vizDir, env });
    } catch (error) {
      message = error.message;
    }
    if (!message.includes("'pngjs' is not installed") || !message.includes('npm install pngjs')) {
      throw new Error(`expected an error naming pngjs and \`npm install pngjs\`, got: ${message || 'no error'}`);
    }
  });
  await check('attention-viz examples/visualize.mjs runs once the optional peers are installed', () => {
    npmInstall(vizDir, ['pngjs', '@napi-rs/canvas', 'dejavu-fonts-ttf']);
    const out = path.join(vizDir, 'out', 'toy');
    runExample(to, 'visualize.mjs', [out]);
    const written = fs.readdirSync(out).sort();
    for (const f of ['figure.png', 'input.png', 'maps.json', 'rollout.png']) if (!written.includes(f)) throw new Error(`${out} lacks ${f}: has ${written.join(', ')}`);
    const m = measure('@vitlens/attention-viz + pngjs, @napi-rs/canvas, dejavu-fonts-ttf (./node)', vizDir);
    return `${written.length} files; with the peers ${mib(m.kib)}`;
  });
}

// 2. The libraries together, with the tfjs peers the READMEs name.
const appDir = consumer('app');
const appInstalled = await check(`npm install ${[...LIBRARIES, ...TFJS_PEERS].join(' ')}`, () => {
  npmInstall(appDir, [...LIBRARIES, ...TFJS_PEERS]);
  const m = measure(`${LIBRARIES.join(' + ')} + tfjs peers`, appDir);
  return `${mib(m.kib)}, ${m.packages} packages`;
});
if (appInstalled) {
  await check('one @tensorflow/tfjs-core in the application', () => {
    const versions = installedPackages(path.join(appDir, 'node_modules')).get('@tensorflow/tfjs-core') ?? [];
    if (versions.length !== 1) throw new Error(`found ${versions.length} copies: ${versions.join(', ')} (two copies register kernels on different engines)`);
    return versions[0];
  });
  for (const pkgName of LIBRARIES) {
    const { to, files } = copyExamples(pkgName, appDir);
    const short = pkgName.split('/')[1];
    for (const file of files.filter((f) => /\.(mjs|cjs)$/.test(f))) {
      for (const { args, expect } of exampleRuns(short, file)) {
        const on = args.includes(images.dir) ? ` on the fixture image folder (${images.summary})` : '';
        await check(`${short} examples/${file}${on} (Node ${file.endsWith('.cjs') ? 'CommonJS' : 'ESM'})`, () => `${runExample(to, file, args, expect)} line(s) of output`);
      }
    }
  }
  // The TypeScript examples type-check against the installed packages' .d.ts, as a user's project would.
  const tsFiles = [];
  for (const pkgName of LIBRARIES) {
    const dir = path.join(appDir, `examples-${pkgName.split('/')[1]}`);
    if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) if (/\.(ts|mts|cts)$/.test(f)) tsFiles.push(path.relative(appDir, path.join(dir, f)));
  }
  if (tsFiles.length > 0) {
    await check(`tsc --strict on the TypeScript examples (${tsFiles.join(', ')})`, () => {
      const tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
      const typeRoots = path.join(root, 'node_modules', '@types');
      exec(process.execPath, [tsc, '--noEmit', '--strict', '--noUncheckedIndexedAccess', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--lib', 'es2022,dom,dom.iterable', '--skipLibCheck', '--typeRoots', typeRoots, '--types', 'node', ...tsFiles], { cwd: appDir, env });
    });
  }
}

// 3. The page: element.html with element.ts and canvas.ts bundled by esbuild from the installed package, in Chromium.
if (appInstalled && BROWSER) {
  await check('the example page renders <vit-attention-map> and the canvas overlay in Chromium', async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} does not exist: install Debian's chromium (node scripts/ensure-system-deps.mjs does) or set VITLENS_CHROMIUM`);
    const fromViz = createRequire(path.join(byName.get('@vitlens/attention-viz').dir, 'package.json'));
    const esbuild = fromViz('esbuild');
    const { chromium } = fromViz('playwright-core');
    const examples = path.join(appDir, 'examples-attention-viz');
    const routes = {
      '/': ['text/html', fs.readFileSync(path.join(examples, 'element.html'))],
      '/horse.jpg': ['image/jpeg', fs.readFileSync(IMAGE)],
    };
    const bundleSizes = [];
    for (const name of ['element', 'canvas']) {
      const built = await esbuild.build({ entryPoints: [path.join(examples, `${name}.ts`)], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', minify: true, write: false, absWorkingDir: appDir });
      const js = built.outputFiles[0].contents;
      routes[`/${name}.js`] = ['text/javascript', js];
      bundleSizes.push(`${name}.js ${(js.length / 1024).toFixed(1)} KiB minified`);
    }
    const server = http.createServer((req, res) => {
      if (req.url === '/favicon.ico') return res.writeHead(204).end(); // not a page error
      const route = routes[req.url === '/element.html' ? '/' : (req.url ?? '')];
      if (!route) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': route[0] }).end(route[1]);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const errors = [];
      const logs = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => (m.type() === 'error' ? errors : logs).push(m.text()));
      page.on('response', (r) => r.status() >= 400 && errors.push(`${r.url()}: HTTP ${r.status()}`));
      await page.goto(`http://127.0.0.1:${server.address().port}/`);
      await page
        .waitForFunction(() => document.querySelector('vit-attention-map')?.map && document.querySelector('canvas#overlay')?.width === 256, null, { timeout: 30_000 })
        .catch(() => {
          throw new Error(`nothing was drawn within 30 s; page errors: ${errors.join(' | ') || 'none'}; console: ${logs.join(' | ') || 'none'}`);
        });
      const state = await page.evaluate(() => {
        const el = document.querySelector('vit-attention-map');
        const map = el.map;
        const hot = map.data.indexOf(Math.max(...map.data));
        const read = (canvas) => {
          const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
          return { width: canvas.width, height: canvas.height, distinct: new Set(Array.from(data.filter((_, i) => i % 4 === 0))).size };
        };
        return { hot, grid: `${map.height}×${map.width}`, element: read(el.canvas), overlay: read(document.querySelector('canvas#overlay')) };
      });
      if (errors.length > 0) throw new Error(`page errors: ${errors.join(' | ')}`);
      if (state.hot !== 21) throw new Error(`the element's map peaks at patch ${state.hot}, expected 21 (the patch the toy attention looks at)`);
      if (state.element.distinct < 16 || state.overlay.distinct < 16) throw new Error(`a canvas looks blank: ${JSON.stringify(state)}`);
      if (!logs.some((l) => l.startsWith('drawn'))) throw new Error(`no 'render' event was logged; console: ${logs.join(' | ')}`);
      return `${state.grid} map peaks at patch 21; element canvas ${state.element.width}×${state.element.height}, overlay ${state.overlay.width}×${state.overlay.height}; ${bundleSizes.join(', ')}`;
    } finally {
      await browser.close();
      server.close();
    }
  });
}

// 4. The CLI, installed globally into a temporary prefix.
const globalDir = path.join(tmp, 'global');
const cliInstalled = await check('npm i -g @vitlens/cli (into a temporary --prefix)', () => {
  exec('npm', ['install', '-g', '--prefix', globalDir, '--no-audit', '--no-fund', '@vitlens/cli'], { cwd: tmp, env, timeoutMs: 600_000 });
  const m = measure('@vitlens/cli (`npm i -g`)', globalDir, path.join(globalDir, 'lib', 'node_modules'));
  return `${mib(m.kib)}, ${m.packages} packages`;
});
if (cliInstalled) {
  const vitlens = path.join(globalDir, 'bin', 'vitlens');
  const cliEnv = { ...env, PATH: `${path.join(globalDir, 'bin')}${path.delimiter}${env.PATH}` };
  await check('vitlens --help', () => {
    const out = exec(vitlens, ['--help'], { cwd: tmp, env: cliEnv });
    for (const command of ['info', 'train', 'evaluate', 'predict', 'visualize', 'widen', 'narrow', 'serve']) if (!out.includes(command)) throw new Error(`--help does not list '${command}':\n${out}`);
  });
  await check('vitlens info', () => {
    const out = exec(vitlens, ['info'], { cwd: tmp, env: cliEnv, timeoutMs: 120_000 });
    const backend = out.match(/^backend\s+(.+)$/m);
    if (!backend) throw new Error(`no 'backend' line:\n${out}`);
    return backend[1];
  });
  await check('vitlens predict on the shipped model', () => {
    const out = JSON.parse(exec(vitlens, ['predict', '--image', IMAGE, '--top', '3', '--json'], { cwd: tmp, env: cliEnv, timeoutMs: 180_000 }));
    const top = out.images?.[0]?.predictions?.[0];
    if (!top) throw new Error(`no prediction in ${JSON.stringify(out).slice(0, 300)}`);
    return `${path.basename(IMAGE)}: ${top.label} ${(top.probability * 100).toFixed(1)}%`;
  });
  await check('vitlens visualize writes the figure (the CLI brings attention-viz/node its peers)', () => {
    const out = path.join(tmp, 'visualize-out');
    exec(vitlens, ['visualize', '--image', IMAGE, '--out', out], { cwd: tmp, env: cliEnv, timeoutMs: 180_000 });
    const figures = fs.readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('figure.png'));
    if (figures.length === 0) throw new Error(`no figure.png under ${out}`);
  });
}

// 5. The CLI as a library, added to the application above.
if (appInstalled) {
  const ok = await check('npm install @vitlens/cli (as a library, into the application)', () => {
    npmInstall(appDir, ['@vitlens/cli']);
  });
  if (ok) {
    const { to, files } = copyExamples('@vitlens/cli', appDir);
    for (const file of files.filter((f) => /\.(mjs|cjs)$/.test(f))) {
      await check(`cli examples/${file} (Node ${file.endsWith('.cjs') ? 'CommonJS' : 'ESM'})`, () => `${runExample(to, file, [IMAGE])} line(s) of output`);
    }
  }
}

// 6. Each other public package alone in a fresh folder (npm installs the required peers).
for (const pkg of publicPackages) {
  if (pkg.name === '@vitlens/attention-viz' || pkg.name === '@vitlens/cli') continue; // measured above
  const dir = consumer(`alone-${pkg.name.split('/')[1]}`);
  await check(`npm install ${pkg.name} (alone)`, () => {
    npmInstall(dir, [pkg.name]);
    const m = measure(pkg.name, dir);
    return `${mib(m.kib)}, ${m.packages} packages`;
  });
}

// ---------------------------------------------------------------------------------------------
// Installed sizes

if (sizes.length > 0) {
  const rows = sizes.map((s) => `| ${s.what} | ${mib(s.kib)} | ${s.packages} | ${s.tensorflow.length > 0 ? s.tensorflow.join(', ') : 'none'} |`);
  const table = ['| installed | node_modules | packages | @tensorflow/* |', '| --- | --- | --- | --- |', ...rows].join('\n');
  console.log(`\nInstalled sizes (du -sk of node_modules, fresh folder, from the local registry):\n${table}\n`);
  const versions = [...published].map(([n, v]) => `${n}@${v}`).join(', ');
  const doc = [
    '# Installed sizes',
    '',
    'What `npm install` puts in a fresh folder\'s `node_modules` for each published package, measured by',
    '`scripts/registry-test.mjs` (`pnpm test:registry`) from a local Verdaccio holding the packages as',
    '`changeset version` + `changeset publish` release them (third-party packages from the npm',
    'registry; npm installs required peer dependencies). Sizes are `du -sk` (disk blocks).',
    '',
    `Released: ${versions}. Node ${process.version}, npm ${exec('npm', ['--version'], { env }).trim()}, ${os.platform()}-${os.arch()}.`,
    '',
    table,
    '',
  ].join('\n');
  fs.mkdirSync(path.join(root, 'results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'results', 'installed-sizes.md'), doc);
}

finish();
