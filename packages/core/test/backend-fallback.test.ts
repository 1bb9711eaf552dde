import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, initBackend, tf } from '../src/index';

// A fresh process (vitest 'forks' pool): no backend registered yet.
describe('initBackend falls back to the last resort, or fails listing every reason', () => {
  it('starts with an empty backend registry (this file relies on it)', () => {
    expect(tf.findBackendFactory('cpu')).toBeNull();
    expect(tf.findBackendFactory('wasm')).toBeNull();
  });

  it('fails with every module and its error when nothing loads', async () => {
    const error = await initBackend({
      runtime: 'node',
      importModule: async (m) => {
        throw new Error(`no ${m.split('/')[1]}`);
      },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toBe(
      'no TensorFlow.js backend could be loaded: @tensorflow/tfjs-node-gpu: no tfjs-node-gpu; @tensorflow/tfjs-node: no tfjs-node; ' +
        '@tensorflow/tfjs-backend-wasm: no tfjs-backend-wasm; @tensorflow/tfjs-backend-cpu: no tfjs-backend-cpu',
    );
    expect(error.attempts).toHaveLength(4);
  });

  it('uses cpu only when wasm fails, and says so', async () => {
    const imported: string[] = [];
    const choice = await initBackend({
      runtime: 'node',
      importModule: async (m) => {
        imported.push(m);
        if (m === '@tensorflow/tfjs-backend-wasm') throw new Error('WebAssembly.instantiate(): out of memory');
        if (m !== '@tensorflow/tfjs-backend-cpu') throw new Error(`Cannot find package '${m}'`);
        return import(/* @vite-ignore */ m);
      },
    });
    expect(imported).toEqual([
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-cpu',
    ]);
    expect(choice.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(choice.attempts[2]).toEqual({
      name: 'wasm',
      module: '@tensorflow/tfjs-backend-wasm',
      ok: false,
      error: 'WebAssembly.instantiate(): out of memory',
    });
    expect(choice.reason).toMatch(/^backend 'cpu' \(@tensorflow\/tfjs-backend-cpu\): .*@tensorflow\/tfjs-backend-wasm unavailable$/);
  });

  it('in the browser tries webgpu, webgl, wasm, then cpu', async () => {
    const imported: string[] = [];
    const choice = await initBackend({
      runtime: 'browser',
      importModule: async (m) => {
        imported.push(m);
        if (m === '@tensorflow/tfjs-backend-webgl') return {}; // loads, registers nothing
        throw new Error(`${m} unavailable in this test`);
      },
    });
    // cpu was registered by the previous test, so it is used without importing it again.
    expect(imported).toEqual(['@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-wasm']);
    expect(choice).toMatchObject({ name: 'cpu', runtime: 'browser' });
    expect(choice.attempts.map((a) => a.name)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });
});
