import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared';

// The browser test drives a real page; one step (model load, a forward and gradient pass) may take a while.
export default defineConfig(testConfig({ testTimeout: 120_000 }));
