import { defineConfig, mergeConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared';

// tfjs-core's per-file ESM modules (the gradient registrations) must be transformed by vite:
// Node cannot resolve their extensionless imports. The main entry stays external.
export default defineConfig(
  mergeConfig(testConfig(), { test: { server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core)/] } } } }),
);
