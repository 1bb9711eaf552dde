import * as tf from '@tensorflow/tfjs-core';
import { TFJS_GRADIENTS_VERSION, tfjsGradConfigs } from './tfjs-gradients';

export { TFJS_GRADIENTS_VERSION };

/**
 * Registers tfjs-core's gradient functions on the app's one `@tensorflow/tfjs-core`.
 *
 * tfjs-core registers none by itself (the `@tensorflow/tfjs` umbrella imports its
 * `register_all_gradients` module, which Node cannot load and which would bundle a second engine):
 * `tfjs-gradients.ts` holds the same definitions written against the public entry. A kernel that
 * already has a gradient (registered by `@tensorflow/tfjs`, or by the app) keeps it.
 *
 * Called by `initBackend`, `@vitlens/vit-model` and `@vitlens/train-loop`; idempotent.
 * @returns how many gradients this call registered (0 when they were all there).
 */
export function registerGradients(): number {
  let added = 0;
  for (const config of tfjsGradConfigs) {
    if (tf.getGradient(config.kernelName) != null) continue;
    tf.registerGradient(config);
    added++;
  }
  return added;
}
