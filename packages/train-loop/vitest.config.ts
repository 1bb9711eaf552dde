import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared';

// trainer.test.ts and ema.test.ts run again on the native tensorflow backend (project 'tensorflow').
export default defineConfig(testConfig({ nativeRerun: ['test/trainer.test.ts', 'test/ema.test.ts'] }));
