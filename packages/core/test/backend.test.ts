import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, initBackend, nativeTensorflowVersion, tf } from '../src/index';

// The real Node environment of this repository: tfjs-node-gpu is not installed; tfjs-node is, with its
// addon built from a TensorFlow wheel by `pnpm native` (which `pnpm test` runs first); wasm and cpu are.
/** A registered backend is used as is; drop tfjs-node's so the next initBackend imports modules again. */
function forgetNativeBackend(): void {
  if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
}

describe('initBackend in Node (real modules)', () => {
  afterEach(() => {
    delete process.env.VITLENS_BACKEND;
  });

  it('picks the native tensorflow backend through tfjs-node, says why, and reports the TensorFlow version', async () => {
    const lines: string[] = [];
    const choice = await initBackend({ log: (l) => lines.push(l) });
    expect(choice.name).toBe('tensorflow');
    expect(choice.module).toBe('@tensorflow/tfjs-node');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(choice.attempts.map((a) => [a.module, a.ok])).toEqual([
      ['@tensorflow/tfjs-node-gpu', false],
      ['@tensorflow/tfjs-node', true],
    ]);
    expect(choice.reason).toBe("backend 'tensorflow' (@tensorflow/tfjs-node): @tensorflow/tfjs-node-gpu unavailable");
    expect(lines[0]).toMatch(/^vitlens: skipped @tensorflow\/tfjs-node-gpu: .*tfjs-node-gpu/);
    // libtensorflow's own version (the wheel's), not tfjs's
    expect(choice.tensorflowVersion).toMatch(/^2\.\d+\.\d+/);
    expect(nativeTensorflowVersion()).toBe(choice.tensorflowVersion);
    // The real kernels run: a matMul computed by TensorFlow.
    const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
    expect(Array.from(product.dataSync())).toEqual([17, 39]);
    product.dispose();
  });

  it('falls back to wasm when tfjs-node cannot load, and says why', async () => {
    forgetNativeBackend();
    const lines: string[] = [];
    const choice = await initBackend({
      log: (l) => lines.push(l),
      importModule: async (m) => {
        if (m.startsWith('@tensorflow/tfjs-node')) throw new Error(`Cannot find package '${m}'`);
        return import(/* @vite-ignore */ m);
      },
    });
    expect(choice.name).toBe('wasm');
    expect(choice.tensorflowVersion).toBeUndefined();
    expect(choice.reason).toBe(
      "backend 'wasm' (@tensorflow/tfjs-backend-wasm): @tensorflow/tfjs-node-gpu unavailable, @tensorflow/tfjs-node unavailable",
    );
    expect(lines).toEqual([
      "vitlens: skipped @tensorflow/tfjs-node-gpu: Cannot find package '@tensorflow/tfjs-node-gpu'",
      "vitlens: skipped @tensorflow/tfjs-node: Cannot find package '@tensorflow/tfjs-node'",
      `vitlens: using ${choice.reason}`,
    ]);
  });

  it('honours VITLENS_BACKEND', async () => {
    process.env.VITLENS_BACKEND = 'cpu';
    const choice = await initBackend();
    expect(choice.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(choice.reason).toBe("backend 'cpu' (@tensorflow/tfjs-backend-cpu) forced by VITLENS_BACKEND");
  });

  it('prefer wins over VITLENS_BACKEND', async () => {
    process.env.VITLENS_BACKEND = 'cpu';
    const choice = await initBackend({ prefer: 'wasm' });
    expect(choice.name).toBe('wasm');
    expect(choice.reason).toMatch(/forced by prefer$/);
  });

  it('refuses a forced backend that is not available, lists what is, and keeps the active backend', async () => {
    forgetNativeBackend();
    await initBackend({ prefer: 'cpu' });
    // As on a machine where tfjs-node is installed but its addon was never built:
    const unbuilt = async (m: string) => {
      if (m.startsWith('@tensorflow/tfjs-node')) throw new Error(`The Node.js native addon module (tfjs_binding.node) can not be found at path: /x`);
      return import(/* @vite-ignore */ m);
    };
    const error = await initBackend({ prefer: 'tensorflow', importModule: unbuilt }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toMatch(/^prefer: backend 'tensorflow' is not available \(@tensorflow\/tfjs-node-gpu: .*; @tensorflow\/tfjs-node: .*\)\. Available here: wasm, cpu$/);
    expect(error.message).toContain('build it with `pnpm native`');
    expect(error.attempts.map((a: { module: string }) => a.module)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(tf.getBackend()).toBe('cpu');
    process.env.VITLENS_BACKEND = 'tensorflow';
    await expect(initBackend({ importModule: unbuilt })).rejects.toThrow(/^VITLENS_BACKEND: backend 'tensorflow' is not available .* Available here: wasm, cpu$/);
  });

  it('refuses an unknown VITLENS_BACKEND value with the valid names', async () => {
    process.env.VITLENS_BACKEND = 'tpu';
    await expect(initBackend()).rejects.toThrow("VITLENS_BACKEND: unknown backend 'tpu'; valid backends are tensorflow, webgpu, webgl, wasm, cpu");
  });

  it('refuses a browser-only backend in Node', async () => {
    await expect(initBackend({ prefer: 'webgl' })).rejects.toThrow(
      "prefer: backend 'webgl' does not run in node; node backends are tensorflow, wasm, cpu",
    );
  });
});
