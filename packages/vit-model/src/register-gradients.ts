// attentionGradients and training need tfjs-core's gradient functions, which tfjs-core does not
// register by itself (the @tensorflow/tfjs umbrella does). The module is ESM with extensionless
// imports, so tsup bundles it into dist (tsup.config.ts) and vitest inlines it (vitest.config.ts).
// Registration goes to tfjs-core's global registry, shared with every other copy (train-loop's).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
