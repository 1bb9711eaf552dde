import { describe, expect, it } from 'vitest';
import { NODE_BACKEND_NAMES, initBackend, tf } from '../src/index';

// Vitest runs each test file in a fresh process ('forks' pool), so no backend is registered yet
// and every candidate really goes through `importModule` in order.
describe('initBackend tries the Node backends in order', () => {
  it('starts with an empty backend registry (this file relies on it)', () => {
    expect(tf.findBackendFactory('wasm')).toBeNull();
    expect(tf.findBackendFactory('tensorflow')).toBeNull();
  });

  it('reports a tfjs-node-gpu that loads but registers nothing, skips a failing tfjs-node, and stops at wasm', async () => {
    const imported: string[] = [];
    const lines: string[] = [];
    const choice = await initBackend({
      runtime: 'node',
      log: (l) => lines.push(l),
      importModule: async (m) => {
        imported.push(m);
        if (m === '@tensorflow/tfjs-node-gpu') return {}; // e.g. a second tfjs-core copy got the backend
        if (m === '@tensorflow/tfjs-node') throw new Error('libtensorflow.so.2: cannot open shared object file');
        return import(/* @vite-ignore */ m);
      },
    });
    expect(imported).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-wasm']);
    expect(choice.name).toBe('wasm');
    expect(choice.attempts[0]?.error).toBe(
      `@tensorflow/tfjs-node-gpu loaded but registered no 'tensorflow' backend on this @tensorflow/tfjs-core (${tf.version_core}); ` +
        'is a second copy of tfjs-core installed?',
    );
    expect(choice.attempts[1]?.error).toBe('libtensorflow.so.2: cannot open shared object file');
    expect(lines).toContain('vitlens: skipped @tensorflow/tfjs-node: libtensorflow.so.2: cannot open shared object file');
  });

  it('picks tensorflow from tfjs-node-gpu first when it registers, without importing anything else', async () => {
    const imported: string[] = [];
    const choice = await initBackend({
      runtime: 'node',
      importModule: async (m) => {
        imported.push(m);
        // tfjs-node-gpu cannot run here (CUDA 11.2); its CPU twin registers the same native
        // 'tensorflow' backend (libtensorflow through the same binding) on the shared tfjs-core.
        if (m === '@tensorflow/tfjs-node-gpu') return import('@tensorflow/tfjs-node');
        throw new Error(`${m} should not be imported`);
      },
    });
    expect(imported).toEqual(['@tensorflow/tfjs-node-gpu']);
    expect(choice).toMatchObject({ name: 'tensorflow', module: '@tensorflow/tfjs-node-gpu' });
    expect(choice.reason).toBe("backend 'tensorflow' (@tensorflow/tfjs-node-gpu): the first choice in node");
    expect(tf.getBackend()).toBe('tensorflow');
    expect(choice.tensorflowVersion).toMatch(/^2\.\d+\.\d+/);
    tf.removeBackend('tensorflow');
  });
});

describe('NODE_BACKEND_NAMES', () => {
  it('names the Node backends once each, in the order initBackend tries them (what the CLI offers as --backend)', () => {
    expect(NODE_BACKEND_NAMES).toEqual(['tensorflow', 'wasm', 'cpu']);
  });
});
