import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryGuard, TensorLeakError, expectFlatMemory, initBackend, tf } from '../src/index';

describe('memory guard', () => {
  beforeAll(async () => {
    await initBackend({ prefer: 'cpu' });
  });

  it('names the call that leaked and by how much', async () => {
    const guard = new MemoryGuard();
    await guard.check('clean', () => tf.tidy(() => tf.sum(tf.add(tf.ones([2]), 1)).dataSync()));
    const kept: tf.Tensor[] = [];
    const error = await guard.check('leaky forward', () => kept.push(tf.ones([2]), tf.zeros([3]))).catch((e) => e);
    expect(error).toBeInstanceOf(TensorLeakError);
    expect(error.label).toBe('leaky forward');
    expect(error.message).toMatch(/^leaky forward leaked 2 tensor\(s\): tf.memory\(\).numTensors went from \d+ to \d+$/);
    expect(guard.leaks().map((r) => r.label)).toEqual(['leaky forward']);
    for (const t of kept) t.dispose();
  });

  it('can record instead of throwing, and counts tensors the caller keeps on purpose', async () => {
    const guard = new MemoryGuard({ throwOnLeak: false });
    const before = tf.memory().numTensors;
    const kept = await guard.check('returns one tensor', () => tf.ones([4]), 1);
    const leaked = await guard.check('step 2', () => tf.zeros([1]));
    expect(guard.report()).toBe(`step 2: +1 tensor(s) (${before + 1} → ${before + 2})`);
    kept.dispose();
    leaked.dispose();
    const clean = new MemoryGuard();
    await clean.check('a', () => 1);
    expect(clean.report()).toBe('no leaks in 1 call(s)');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('expectFlatMemory allows lasting state from the first call and names later growth', async () => {
    let state: tf.Tensor | undefined;
    await expectFlatMemory('optimizer-like', () => {
      state ??= tf.zeros([3]); // created once, on the first call
      tf.tidy(() => {
        tf.add(state!, 1);
      });
    });
    state?.dispose();
    const kept: tf.Tensor[] = [];
    await expect(expectFlatMemory('train step', () => kept.push(tf.ones([1])), 4)).rejects.toThrow(
      /^train step \(calls 2..4\) leaked 3 tensor\(s\)/,
    );
    for (const t of kept) t.dispose();
  });
});
