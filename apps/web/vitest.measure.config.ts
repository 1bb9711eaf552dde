import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared';

// `pnpm --filter @vitlens/web measure`: timings of the page in Chromium, kept out of the test run.
const config = testConfig({ testTimeout: 900_000 });
export default defineConfig({ ...config, test: { ...config.test, include: ['scripts/*.measure.ts'] } });
