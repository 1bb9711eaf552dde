import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from './gradients';
import * as kernels from './kernels';

/** The backends vitlens knows, by their tfjs registry names. */
export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];

/** One way to obtain a backend: a module that registers it when imported. */
interface BackendCandidate {
  name: BackendName;
  /** The npm package that registers this backend when imported. */
  module: string;
}

const NODE_ORDER: readonly BackendCandidate[] = [
  { name: 'tensorflow', module: '@tensorflow/tfjs-node-gpu' },
  { name: 'tensorflow', module: '@tensorflow/tfjs-node' },
  { name: 'wasm', module: '@tensorflow/tfjs-backend-wasm' },
  { name: 'cpu', module: '@tensorflow/tfjs-backend-cpu' },
];

/** The backends that run in Node, in the order `initBackend` tries them (`tensorflow`, `wasm`, `cpu`). */
export const NODE_BACKEND_NAMES: readonly BackendName[] = [...new Set(NODE_ORDER.map((c) => c.name))];

const BROWSER_ORDER: readonly BackendCandidate[] = [
  { name: 'webgpu', module: '@tensorflow/tfjs-backend-webgpu' },
  { name: 'webgl', module: '@tensorflow/tfjs-backend-webgl' },
  { name: 'wasm', module: '@tensorflow/tfjs-backend-wasm' },
  { name: 'cpu', module: '@tensorflow/tfjs-backend-cpu' },
];

/** What happened when one candidate was tried. */
export interface BackendAttempt {
  name: BackendName;
  module: string;
  ok: boolean;
  /** Why it was skipped, when `ok` is false. */
  error?: string;
}

export interface BackendChoice {
  /** The backend now active on the shared `tf`. */
  name: BackendName;
  /** The package that provided it. */
  module: string;
  /** One sentence: which backend and why. */
  reason: string;
  /** Every candidate tried, in order. */
  attempts: BackendAttempt[];
  runtime: 'node' | 'browser';
  /** The TensorFlow version behind the native `tensorflow` backend (its libtensorflow), else undefined. */
  tensorflowVersion?: string | undefined;
}

export interface InitBackendOptions {
  /**
   * Force one backend. Defaults to the `VITLENS_BACKEND` environment variable (Node) when set.
   * Forcing a backend that cannot be loaded throws, listing the ones that can.
   */
  prefer?: BackendName | undefined;
  /** Receives one line saying what was chosen and why, and one line per skipped candidate. */
  log?: ((message: string) => void) | undefined;
  /**
   * Where the wasm backend finds its `.wasm` files in the browser (a URL prefix or per-file map),
   * passed to `setWasmPaths`. In Node the files are found next to the package.
   */
  wasmPaths?: string | Record<string, string> | undefined;
  /**
   * `setWasmPaths` of the `@tensorflow/tfjs-backend-wasm` your app imported
   * (`import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'`): how `wasmPaths` reaches a
   * wasm backend the app registered itself, without importing the module a second time (a
   * bundled page cannot). Not needed when `initBackend` imports the module, or when you call
   * `setWasmPaths` yourself before `initBackend`.
   */
  setWasmPaths?: ((paths: string | Record<string, string>) => void) | undefined;
  /** Override the runtime detection (tests). */
  runtime?: 'node' | 'browser' | undefined;
  /**
   * Override how a backend module is imported (tests, bundlers). The default is a dynamic
   * `import()` of the module name, attempted only for a backend not registered yet: a backend the
   * app registered (by importing its module) is used as it is.
   */
  importModule?: ((module: string) => Promise<unknown>) | undefined;
  /**
   * Register vitlens's fused kernels: on wasm, the WebAssembly SIMD BatchMatMul (attention) and the
   * fused GELU/LayerNorm; on tensorflow, GELU and LayerNorm from native TensorFlow ops
   * (FusedBatchNormV3, Erf). Default true; `false` or the environment variable
   * `VITLENS_FAST_KERNELS=0` keeps (or restores) the stock kernels and the composite ops.
   */
  fastKernels?: boolean | undefined;
}

/** Thrown when a forced backend is unavailable, or when none at all can be loaded. */
export class BackendUnavailableError extends Error {
  constructor(
    message: string,
    readonly attempts: BackendAttempt[],
  ) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

export function detectRuntime(): 'node' | 'browser' {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined'
    ? 'node'
    : 'browser';
}

function envBackend(): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.VITLENS_BACKEND;
  return value && value.trim() !== '' ? value.trim() : undefined;
}

function parseBackendName(value: string, source: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new BackendUnavailableError(
    `${source}: unknown backend '${value}'; valid backends are ${BACKEND_NAMES.join(', ')}`,
    [],
  );
}

// A variable specifier keeps bundlers from trying to resolve optional Node-only packages.
const defaultImport = (module: string): Promise<unknown> => import(/* @vite-ignore */ module);

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/**
 * The version of the libtensorflow behind the registered `tensorflow` backend (tfjs-node's binding
 * reports `TF_Version()`), or undefined when that backend is not registered.
 */
export function nativeTensorflowVersion(): string | undefined {
  if (tf.findBackendFactory('tensorflow') == null) return undefined;
  const backend = tf.findBackend('tensorflow') as { binding?: { TF_Version?: unknown } } | null;
  const version = backend?.binding?.TF_Version;
  return typeof version === 'string' ? version : undefined;
}

/** libtensorflow logs oneDNN/CPU-feature notices on every load unless told otherwise. */
function quietNativeLogs(): void {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  if (proc?.env && proc.env.TF_CPP_MIN_LOG_LEVEL === undefined) proc.env.TF_CPP_MIN_LOG_LEVEL = '2';
}

type WasmPaths = string | Record<string, string>;

/** `wasmPaths` cannot reach the registered wasm backend: a mistake in the app, not a missing backend. */
class WasmPathsError extends Error {}

/** Modules `initBackend` imported itself, so `setWasmPaths` is never reached by a second import. */
const importedModules = new Map<string, unknown>();

async function importCandidate(candidate: BackendCandidate, options: InitBackendOptions, runtime: 'node' | 'browser'): Promise<unknown> {
  try {
    const module = await (options.importModule ?? defaultImport)(candidate.module);
    importedModules.set(candidate.module, module);
    return module;
  } catch (error) {
    // A bundler cannot follow a dynamic import of a computed name: the page must import the module.
    if (runtime === 'browser' && options.importModule === undefined) {
      throw new Error(
        `${errorText(error)} (not registered: in a bundled page, \`import '${candidate.module}'\` in your app before initBackend())`,
      );
    }
    throw error;
  }
}

/** `setWasmPaths` from an option, the module initBackend imported, or (when the app registered wasm) an import of it. */
async function applyWasmPaths(candidate: BackendCandidate, paths: WasmPaths, options: InitBackendOptions): Promise<void> {
  if (options.setWasmPaths !== undefined) {
    options.setWasmPaths(paths);
    return;
  }
  let module = importedModules.get(candidate.module);
  if (module === undefined) {
    try {
      module = await (options.importModule ?? defaultImport)(candidate.module);
    } catch (error) {
      throw new WasmPathsError(
        `wasmPaths given, but the wasm backend was registered by your app and ${candidate.module} cannot be imported here ` +
          `to call its setWasmPaths (${errorText(error)}); pass \`setWasmPaths\` (import { setWasmPaths } from '${candidate.module}') ` +
          'to initBackend, or call setWasmPaths yourself before initBackend() and omit wasmPaths',
      );
    }
  }
  const setter = (module as { setWasmPaths?: (paths: WasmPaths) => void } | null)?.setWasmPaths;
  if (typeof setter !== 'function') throw new WasmPathsError(`wasmPaths given, but ${candidate.module} exports no setWasmPaths`);
  setter(paths);
}

async function tryCandidate(
  candidate: BackendCandidate,
  options: InitBackendOptions,
  runtime: 'node' | 'browser',
): Promise<BackendAttempt> {
  const attempt: BackendAttempt = { name: candidate.name, module: candidate.module, ok: false };
  try {
    // A backend already registered (the app imported its module) is used as it is: no import.
    if (tf.findBackendFactory(candidate.name) == null) {
      if (candidate.name === 'tensorflow') quietNativeLogs();
      await importCandidate(candidate, options, runtime);
    }
    if (tf.findBackendFactory(candidate.name) == null) {
      throw new Error(
        `${candidate.module} loaded but registered no '${candidate.name}' backend on this @tensorflow/tfjs-core ` +
          `(${tf.version_core}); is a second copy of tfjs-core installed?`,
      );
    }
    if (candidate.name === 'wasm' && options.wasmPaths !== undefined) {
      await applyWasmPaths(candidate, options.wasmPaths, options);
    }
    const ok = await tf.setBackend(candidate.name);
    if (!ok) {
      throw new Error(
        `tf.setBackend('${candidate.name}') failed to initialise` +
          (candidate.name === 'wasm' && runtime === 'browser'
            ? ' (are its .wasm files served where wasmPaths / setWasmPaths point? see the console)'
            : ''),
      );
    }
    await tf.ready();
    attempt.ok = true;
  } catch (error) {
    attempt.error = errorText(error);
    // Falling back to cpu here would hide the mistake (wasm is there, its paths are not applied).
    if (error instanceof WasmPathsError) throw new BackendUnavailableError(`initBackend: ${error.message}`, [attempt]);
    // tfjs-node installed without its addon (its download cannot run, or pnpm skipped the script):
    // tfjs-node's own advice (`npm rebuild …`) downloads libtensorflow again.
    if (candidate.name === 'tensorflow' && /tfjs_binding\.node/.test(attempt.error)) {
      attempt.error += ' (build it with `pnpm native` in the vitlens repository: see its README, "Native TensorFlow")';
    }
  }
  return attempt;
}

function versionFor(name: BackendName): string | undefined {
  return name === 'tensorflow' ? nativeTensorflowVersion() : undefined;
}

function applyFastKernels(name: BackendName, options: InitBackendOptions): void {
  if (name !== 'wasm' && name !== 'tensorflow') return;
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const enabled = options.fastKernels ?? proc?.env?.VITLENS_FAST_KERNELS?.trim() !== '0';
  if (name === 'tensorflow') {
    if (enabled) kernels.registerNativeKernels();
    else kernels.unregisterNativeKernels();
  } else if (enabled) {
    kernels.registerFastWasmKernels();
    kernels.registerFusedWasmKernels();
  } else {
    kernels.unregisterFastWasmKernels();
    kernels.unregisterFusedWasmKernels();
  }
}

/**
 * Pick the best available backend and make it active on the shared `tf`.
 *
 * Node: `tensorflow` (tfjs-node-gpu, then tfjs-node), then `wasm`, then `cpu`.
 * Browser: `webgpu`, `webgl`, `wasm`, `cpu`. A backend already registered (its module imported by
 * the app, as a bundled page must) is used as it is; the others are imported inside a `try`, and
 * one that fails is reported with its error and skipped. Also registers tfjs-core's gradients.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendChoice> {
  // tfjs-core has no gradients until someone registers them (see ./gradients): tf.grad works after initBackend.
  registerGradients();
  const runtime = options.runtime ?? detectRuntime();
  const order = runtime === 'node' ? NODE_ORDER : BROWSER_ORDER;
  const env = runtime === 'node' ? envBackend() : undefined;
  const forcedSource = options.prefer !== undefined ? 'prefer' : env !== undefined ? 'VITLENS_BACKEND' : undefined;
  const forced =
    options.prefer !== undefined
      ? parseBackendName(options.prefer, 'initBackend({ prefer })')
      : env !== undefined
        ? parseBackendName(env, 'VITLENS_BACKEND')
        : undefined;
  const log = options.log ?? (() => {});
  const attempts: BackendAttempt[] = [];

  if (forced !== undefined) {
    const candidates = order.filter((c) => c.name === forced);
    if (candidates.length === 0) {
      throw new BackendUnavailableError(
        `${forcedSource}: backend '${forced}' does not run in ${runtime}; ` +
          `${runtime} backends are ${[...new Set(order.map((c) => c.name))].join(', ')}`,
        attempts,
      );
    }
    for (const candidate of candidates) {
      const attempt = await tryCandidate(candidate, options, runtime);
      attempts.push(attempt);
      if (attempt.ok) {
        const reason = `backend '${forced}' (${candidate.module}) forced by ${forcedSource}`;
        log(`vitlens: ${reason}`);
        applyFastKernels(forced, options);
        return { name: forced, module: candidate.module, reason, attempts, runtime, tensorflowVersion: versionFor(forced) };
      }
    }
    // Probing activates each backend in turn; put back the one that was active before.
    const previous = tf.getBackend() as string | null;
    const available: string[] = [];
    for (const candidate of order) {
      if (candidate.name === forced || available.includes(candidate.name)) continue;
      const probe = await tryCandidate(candidate, options, runtime);
      if (probe.ok) available.push(candidate.name);
    }
    if (previous != null && tf.findBackendFactory(previous) != null && tf.getBackend() !== previous) {
      await tf.setBackend(previous);
    }
    const why = attempts.map((a) => `${a.module}: ${a.error}`).join('; ');
    throw new BackendUnavailableError(
      `${forcedSource}: backend '${forced}' is not available (${why}). ` +
        `Available here: ${available.length > 0 ? available.join(', ') : 'none'}`,
      attempts,
    );
  }

  for (const candidate of order) {
    const attempt = await tryCandidate(candidate, options, runtime);
    attempts.push(attempt);
    if (attempt.ok) {
      const skipped = attempts.filter((a) => !a.ok);
      const reason =
        skipped.length === 0
          ? `backend '${candidate.name}' (${candidate.module}): the first choice in ${runtime}`
          : `backend '${candidate.name}' (${candidate.module}): ${skipped.map((a) => `${a.module} unavailable`).join(', ')}`;
      for (const s of skipped) log(`vitlens: skipped ${s.module}: ${s.error}`);
      log(`vitlens: using ${reason}`);
      applyFastKernels(candidate.name, options);
      return { name: candidate.name, module: candidate.module, reason, attempts, runtime, tensorflowVersion: versionFor(candidate.name) };
    }
  }
  throw new BackendUnavailableError(
    `no TensorFlow.js backend could be loaded: ${attempts.map((a) => `${a.module}: ${a.error}`).join('; ')}`,
    attempts,
  );
}
