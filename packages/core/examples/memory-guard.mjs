// Tensor-leak checks that name the leaking call.
import { MemoryGuard, TensorLeakError, expectFlatMemory, initBackend, tf } from '@vitlens/core';

await initBackend({ prefer: 'cpu' });
const guard = new MemoryGuard();
try {
  await guard.check('forward', () => tf.ones([2])); // the result is kept: one tensor more than before
} catch (error) {
  if (!(error instanceof TensorLeakError)) throw error;
  console.log(error.message); // forward leaked 1 tensor(s): tf.memory().numTensors went from 0 to 1
}
console.log(guard.records); // [ { label: 'forward', before: 0, after: 1, leaked: 1 } ]

// Runs the function 3 times and fails if the tensor count grows after the first call.
const weights = tf.variable(tf.zeros([4]));
await expectFlatMemory('update', () => tf.tidy(() => weights.assign(tf.add(weights, 1))));
console.log(weights.dataSync()); // Float32Array(4) [ 3, 3, 3, 3 ]
