#!/usr/bin/env node
// `pnpm native [--wheel <path>] [--force] [--check]`: build the native TensorFlow backend
// (`@tensorflow/tfjs-node`) from the libtensorflow inside a TensorFlow wheel, offline.
//
// tfjs-node's own install script downloads libtensorflow 2.9.1 and a prebuilt addon from
// storage.googleapis.com. Where that cannot happen (air-gapped machines, CI without that host) or a
// newer TensorFlow is wanted, this script does the same job from a `tensorflow-cpu` wheel:
//   1. finds the installed @tensorflow/tfjs-node (a root devDependency, installed without scripts);
//   2. takes the wheel from --wheel, VITLENS_TF_WHEEL, the cache, or `pip download`;
//   3. unpacks its two shared libraries and the C API headers into the package's deps/;
//   4. builds the N-API addon with node-gyp against Node's own headers (no header download);
//   5. checks the C API symbols the binding needs, loads it and runs a matMul.
// It is idempotent: a stamp in deps/ records what was built; a rerun with the same inputs only
// re-checks. `--check` only reports whether the backend loads (exit 1 when it does not).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TF_WHEEL_VERSION = '2.21.0';
const WHEEL_PACKAGE = 'tensorflow-cpu';
const STAMP_FORMAT = 1;
/** C API functions the binding calls that must be exported by the libraries we link. */
const REQUIRED_SYMBOLS = ['TF_Version', 'TFE_NewContext', 'TFE_Execute', 'TFE_NewOp', 'TF_NewStatus', 'TF_AllocateTensor'];

function parseArgs(argv) {
  const args = { wheel: process.env.VITLENS_TF_WHEEL || undefined, force: false, check: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--wheel') {
      args.wheel = argv[i + 1];
      i += 1;
      if (!args.wheel) fail('--wheel needs a path to a tensorflow-cpu wheel (.whl)');
    } else if (arg.startsWith('--wheel=')) args.wheel = arg.slice('--wheel='.length);
    else if (arg === '--force') args.force = true;
    else if (arg === '--check') args.check = true;
    else if (arg === '--help' || arg === '-h') {
      console.log('usage: pnpm native [--wheel <tensorflow-cpu.whl>] [--force] [--check]');
      process.exit(0);
    } else fail(`unknown option '${arg}'; valid: --wheel <path>, --force, --check`);
  }
  return args;
}

function fail(message) {
  console.error(`pnpm native: ${message}`);
  process.exit(1);
}

function step(message) {
  console.log(`native: ${message}`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) fail(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with ${result.status}`);
}

/** The installed tfjs-node package folder, and the tfjs-core version it must match. */
function locatePackage() {
  const rootRequire = createRequire(path.join(ROOT, 'package.json'));
  const coreRequire = createRequire(path.join(ROOT, 'packages', 'core', 'package.json'));
  const corePkgPath = fs.realpathSync(coreRequire.resolve('@tensorflow/tfjs-core/package.json'));
  const coreVersion = JSON.parse(fs.readFileSync(corePkgPath, 'utf8')).version;
  let pkgJsonPath;
  try {
    pkgJsonPath = rootRequire.resolve('@tensorflow/tfjs-node/package.json');
  } catch {
    fail(
      `@tensorflow/tfjs-node is not installed in ${ROOT}/node_modules; run \`npx -y pnpm@10.34.8 install\` first ` +
        `(it is a root devDependency at the version of @tensorflow/tfjs-core, ${coreVersion})`,
    );
  }
  const dir = fs.realpathSync(path.dirname(pkgJsonPath));
  const version = JSON.parse(fs.readFileSync(pkgJsonPath, 'utf8')).version;
  if (version !== coreVersion) {
    fail(`@tensorflow/tfjs-node is ${version} but @tensorflow/tfjs-core is ${coreVersion}; they must be equal`);
  }
  // tfjs-node registers its backend on the tfjs-core that @tensorflow/tfjs resolves to: it must be
  // the very folder vitlens uses, or the backend lands on a second engine.
  const tfjsRequire = createRequire(createRequire(path.join(dir, 'package.json')).resolve('@tensorflow/tfjs/package.json'));
  const nodeCorePath = fs.realpathSync(tfjsRequire.resolve('@tensorflow/tfjs-core/package.json'));
  if (nodeCorePath !== corePkgPath) {
    fail(`tfjs-node uses a second @tensorflow/tfjs-core (${path.dirname(nodeCorePath)}, vitlens: ${path.dirname(corePkgPath)}); reinstall so there is one`);
  }
  return { dir, version };
}

function cacheDir() {
  const base = process.env.VITLENS_CACHE_DIR || path.join(os.homedir(), '.cache', 'vitlens');
  return path.join(base, 'native');
}

function findPython() {
  for (const candidate of ['python3', 'python']) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  fail('python3 is needed (to fetch and unpack the wheel, and by node-gyp) but was not found');
}

/** A wheel path: the one given, one already in the cache, or one pip downloads into the cache. */
function obtainWheel(explicit, python) {
  if (explicit) {
    const wheel = path.resolve(explicit);
    if (!fs.existsSync(wheel)) fail(`--wheel ${wheel}: no such file`);
    if (!wheel.endsWith('.whl')) fail(`--wheel ${wheel}: expected a TensorFlow wheel (.whl)`);
    return wheel;
  }
  const dir = path.join(cacheDir(), 'wheels');
  fs.mkdirSync(dir, { recursive: true });
  const cached = () =>
    fs
      .readdirSync(dir)
      .filter((f) => f.startsWith(`${WHEEL_PACKAGE.replace('-', '_')}-${TF_WHEEL_VERSION}-`) && f.endsWith('.whl'))
      .map((f) => path.join(dir, f))[0];
  const hit = cached();
  if (hit) return hit;
  step(`downloading ${WHEEL_PACKAGE}==${TF_WHEEL_VERSION} with pip into ${dir}`);
  // The wheel only provides shared libraries: its Python tag does not matter, any linux x86-64 build works.
  const result = spawnSync(
    python,
    ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', `${WHEEL_PACKAGE}==${TF_WHEEL_VERSION}`, '-d', dir],
    { stdio: 'inherit' },
  );
  const wheel = cached();
  if (result.status !== 0 || !wheel) {
    fail(
      `pip could not download ${WHEEL_PACKAGE}==${TF_WHEEL_VERSION} (no package index reachable?). ` +
        'Download the wheel on a machine with access and pass it with --wheel <path>.',
    );
  }
  return wheel;
}

function fileDigest(file) {
  // Size + mtime + name identify a wheel well enough for the stamp without hashing 274 MB each run.
  const stat = fs.statSync(file);
  return createHash('sha256').update(`${path.basename(file)}:${stat.size}:${stat.mtimeMs}`).digest('hex').slice(0, 16);
}

// Members copied from the wheel (a zip): the two libraries and the C API headers.
const UNPACK_PY = `
import sys, zipfile, os, shutil
wheel, deps = sys.argv[1], sys.argv[2]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
prefixes = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/',
            'tensorflow/include/tsl/', 'tensorflow/include/xla/tsl/')
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    missing = sorted(libs - names)
    if missing:
        sys.exit(f'{wheel}: not a TensorFlow wheel with the C API libraries (missing {", ".join(missing)})')
    count = 0
    for name in sorted(names):
        if name in libs:
            target = os.path.join(deps, 'lib', os.path.basename(name))
        elif name.startswith(prefixes) and not name.endswith('/'):
            target = os.path.join(deps, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(name) as src, open(target + '.part', 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(target + '.part', target)
        count += 1
    print(count)
`;

function unpackWheel(wheel, depsDir, python) {
  fs.rmSync(depsDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(depsDir, 'lib'), { recursive: true });
  step(`unpacking libtensorflow and the C API headers from ${path.basename(wheel)}`);
  const out = execFileSync(python, ['-c', UNPACK_PY, wheel, depsDir], { encoding: 'utf8' });
  step(`  ${out.trim()} files into ${depsDir}`);
  const lib = path.join(depsDir, 'lib');
  // binding.gyp links -ltensorflow -ltensorflow_framework; tfjs-node's scripts look for the 2.9.1 names.
  const links = {
    'libtensorflow.so': 'libtensorflow_cc.so.2',
    'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
    'libtensorflow.so.2.9.1': 'libtensorflow_cc.so.2',
    'libtensorflow_framework.so.2.9.1': 'libtensorflow_framework.so.2',
  };
  for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(lib, name));
}

function checkSymbols(depsDir) {
  // libtensorflow_cc exports the eager (TFE_*) and graph API; libtensorflow_framework the
  // tensor/status/buffer TF_* functions. Together they must cover what the binding calls.
  const exported = new Set();
  for (const lib of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    const probe = spawnSync('nm', ['-D', '--defined-only', path.join(depsDir, 'lib', lib)], {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    });
    if (probe.error || probe.status !== 0) {
      step('nm is not available; the symbol check is left to the smoke test');
      return;
    }
    for (const line of probe.stdout.split('\n')) exported.add(line.trim().split(/\s+/)[2]?.split('@')[0]);
  }
  const missing = REQUIRED_SYMBOLS.filter((s) => !exported.has(s));
  if (missing.length > 0) {
    fail(`the wheel's libtensorflow does not export ${missing.join(', ')}; this wheel cannot back tfjs-node`);
  }
  step(`  C API symbols present (${REQUIRED_SYMBOLS.join(', ')})`);
}

function buildAddon(pkgDir) {
  const require = createRequire(path.join(pkgDir, 'package.json'));
  const preGyp = require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
  // Node's headers and common.gypi live in its install prefix (include/node): no header download.
  const nodeDir = path.resolve(path.dirname(process.execPath), '..');
  if (!fs.existsSync(path.join(nodeDir, 'include', 'node', 'node_api.h'))) {
    fail(`Node's headers are not in ${nodeDir}/include/node; install the Node.js development headers`);
  }
  const env = { ...process.env };
  const npmGyp = findNpmNodeGyp();
  if (npmGyp) env.npm_config_node_gyp = npmGyp;
  // A new addon file, never one rewritten in place: a running process may have the old one mapped.
  fs.rmSync(path.join(pkgDir, 'lib'), { recursive: true, force: true });
  fs.rmSync(path.join(pkgDir, 'build'), { recursive: true, force: true });
  step('building the N-API addon with node-gyp (about 15 s)');
  run(process.execPath, [preGyp, 'install', '--build-from-source', `--nodedir=${nodeDir}`, '--silent'], {
    cwd: pkgDir,
    env,
  });
}

/** npm ships node-gyp; node-pre-gyp finds it through npm_config_node_gyp. */
function findNpmNodeGyp() {
  const candidates = [
    path.resolve(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' });
  if (npmRoot.status === 0) candidates.push(path.join(npmRoot.stdout.trim(), 'npm/node_modules/node-gyp/bin/node-gyp.js'));
  return candidates.find((c) => fs.existsSync(c));
}

/** Load tfjs-node in a child process (it prints TF's log lines) and run one op. */
function smokeTest(pkgDir) {
  const script = `
    const tf = require(${JSON.stringify(pkgDir)});
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const product = tf.matMul(a, a).arraySync();
    const ok = JSON.stringify(product) === JSON.stringify([[7, 10], [15, 22]]);
    const binding = tf.backend().binding;
    console.log(JSON.stringify({ ok, backend: tf.getBackend(), tensorflow: binding.TF_Version, tfjs: tf.version_core, product }));
  `;
  const result = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
  });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    const report = JSON.parse(line);
    if (report.ok && report.backend === 'tensorflow') return report;
    return { ok: false, error: `matMul gave ${JSON.stringify(report.product)} on backend ${report.backend}` };
  } catch {
    const stderr = result.stderr.split('\n').filter((l) => l.trim() !== '');
    return { ok: false, error: stderr.slice(-3).join(' | ') || `exit ${result.status}` };
  }
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`this script builds for linux x86-64 from a manylinux wheel; this is ${process.platform} ${process.arch}`);
  }
  const pkg = locatePackage();
  const depsDir = path.join(pkg.dir, 'deps');
  const stampFile = path.join(depsDir, 'vitlens-native.json');
  const addon = path.join(pkg.dir, 'lib', 'napi-v8', 'tfjs_binding.node');

  if (args.check) {
    const report = smokeTest(pkg.dir);
    if (!report.ok) fail(`the native backend does not load: ${report.error}. Run \`pnpm native\` to build it.`);
    console.log(`native: tensorflow backend OK (TensorFlow ${report.tensorflow}, tfjs ${report.tfjs})`);
    return;
  }

  const python = findPython();
  const wheel = obtainWheel(args.wheel, python);
  const stamp = {
    format: STAMP_FORMAT,
    tfjsNode: pkg.version,
    node: process.versions.modules,
    wheel: path.basename(wheel),
    wheelDigest: fileDigest(wheel),
  };
  const previous = fs.existsSync(stampFile) ? fs.readFileSync(stampFile, 'utf8') : '';
  const upToDate = !args.force && previous === JSON.stringify(stamp) && fs.existsSync(addon);
  if (upToDate) {
    step(`already built from ${stamp.wheel} for tfjs-node ${pkg.version}; checking it loads`);
  } else {
    unpackWheel(wheel, depsDir, python);
    checkSymbols(depsDir);
    buildAddon(pkg.dir);
    if (!fs.existsSync(addon)) fail(`the build finished but ${addon} is missing`);
  }
  const report = smokeTest(pkg.dir);
  if (!report.ok) {
    fail(`the addon was built but does not run: ${report.error}. Rerun with --force to rebuild from scratch.`);
  }
  // The stamp is written last, so an interrupted build is redone by the next run.
  fs.writeFileSync(`${stampFile}.part`, JSON.stringify(stamp));
  fs.renameSync(`${stampFile}.part`, stampFile);
  step(`tensorflow backend ready: TensorFlow ${report.tensorflow} behind @tensorflow/tfjs-node ${pkg.version}`);
  step('vitlens now picks it by default in Node (`pnpm vitlens info`); VITLENS_BACKEND=wasm still forces wasm');
}

main();
