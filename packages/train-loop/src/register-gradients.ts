// tfjs-core registers no gradient functions by itself (the @tensorflow/tfjs umbrella does it);
// training needs them. The module is ESM with extensionless imports, so Node cannot load it
// directly: tsup bundles it into dist (see tsup.config.ts) and vitest inlines it (vitest.config.ts).
// Registration goes to tfjs-core's global gradient registry, shared by every copy of the code.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
