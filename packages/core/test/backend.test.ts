import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, initBackend, tf } from '../src/index';

// The real Node environment here: tfjs-node(-gpu) are not installed, wasm and cpu are.
describe('initBackend in Node (real modules)', () => {
  afterEach(() => {
    delete process.env.VITLENS_BACKEND;
  });

  it('falls back past the missing tfjs-node packages to wasm and says why', async () => {
    const lines: string[] = [];
    const choice = await initBackend({ log: (l) => lines.push(l) });
    expect(choice.name).toBe('wasm');
    expect(choice.runtime).toBe('node');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.attempts.map((a) => [a.module, a.ok])).toEqual([
      ['@tensorflow/tfjs-node-gpu', false],
      ['@tensorflow/tfjs-node', false],
      ['@tensorflow/tfjs-backend-wasm', true],
    ]);
    expect(choice.attempts[0]?.error).toMatch(/tfjs-node-gpu/);
    expect(choice.reason).toBe(
      "backend 'wasm' (@tensorflow/tfjs-backend-wasm): @tensorflow/tfjs-node-gpu unavailable, @tensorflow/tfjs-node unavailable",
    );
    expect(lines[0]).toMatch(/^vitlens: skipped @tensorflow\/tfjs-node-gpu: /);
    expect(lines[1]).toMatch(/^vitlens: skipped @tensorflow\/tfjs-node: /);
    expect(lines.at(-1)).toBe(`vitlens: using ${choice.reason}`);
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
    await initBackend({ prefer: 'cpu' });
    const error = await initBackend({ prefer: 'tensorflow' }).catch((e) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toMatch(/^prefer: backend 'tensorflow' is not available \(@tensorflow\/tfjs-node-gpu: .*; @tensorflow\/tfjs-node: .*\)\. Available here: wasm, cpu$/);
    expect(error.attempts.map((a: { module: string }) => a.module)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(tf.getBackend()).toBe('cpu');
    process.env.VITLENS_BACKEND = 'tensorflow';
    await expect(initBackend()).rejects.toThrow(/^VITLENS_BACKEND: backend 'tensorflow' is not available .* Available here: wasm, cpu$/);
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
