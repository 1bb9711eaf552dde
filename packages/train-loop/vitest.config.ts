import { defineConfig, mergeConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared';

// tfjs-core's per-file ESM modules (the gradient registrations) must be transformed by vite:
// Node cannot resolve their extensionless imports. The main entry stays external.
// trainer.test.ts runs again on the native tensorflow backend (project 'tensorflow').
export default defineConfig(
  mergeConfig(testConfig({ nativeRerun: ['test/trainer.test.ts', 'test/ema.test.ts'] }), {
    test: { server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core)/] } } },
  }),
);
