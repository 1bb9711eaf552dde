// Pick the best backend available here, and say which and why.
import { BackendUnavailableError, initBackend } from '@vitlens/core';

const choice = await initBackend({ log: console.log });
// vitlens: skipped @tensorflow/tfjs-node-gpu: Cannot find package '@tensorflow/tfjs-node-gpu' imported from …
// vitlens: skipped @tensorflow/tfjs-node: Cannot find package '@tensorflow/tfjs-node' imported from …
// vitlens: using backend 'wasm' (@tensorflow/tfjs-backend-wasm): @tensorflow/tfjs-node-gpu unavailable, @tensorflow/tfjs-node unavailable
console.log(choice.name, choice.attempts.map((a) => `${a.module}: ${a.ok ? 'ok' : 'unavailable'}`));
// wasm [ '@tensorflow/tfjs-node-gpu: unavailable', '@tensorflow/tfjs-node: unavailable', '@tensorflow/tfjs-backend-wasm: ok' ]

// Forcing a backend that is not installed is an error that lists what is available.
try {
  await initBackend({ prefer: 'tensorflow' });
  console.log('tensorflow is installed here');
} catch (error) {
  if (!(error instanceof BackendUnavailableError)) throw error;
  console.log(error.message);
  // prefer: backend 'tensorflow' is not available (@tensorflow/tfjs-node-gpu: Cannot find package …;
  //   @tensorflow/tfjs-node: Cannot find package …). Available here: wasm, cpu
}
