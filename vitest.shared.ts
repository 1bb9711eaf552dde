import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Workspace packages resolve to their sources in tests, so no build is needed to test a change. */
export const workspaceAlias: Record<string, string> = {
  '@vitlens/core/node': `${root}packages/core/src/node/index.ts`,
  '@vitlens/core': `${root}packages/core/src/index.ts`,
  '@vitlens/cifar10-data/node': `${root}packages/cifar10-data/src/node/index.ts`,
  '@vitlens/cifar10-data': `${root}packages/cifar10-data/src/index.ts`,
  '@vitlens/vit-model/node': `${root}packages/vit-model/src/node/index.ts`,
  '@vitlens/vit-model': `${root}packages/vit-model/src/index.ts`,
  '@vitlens/train-loop': `${root}packages/train-loop/src/index.ts`,
  '@vitlens/attention-viz/node': `${root}packages/attention-viz/src/node/index.ts`,
  '@vitlens/attention-viz': `${root}packages/attention-viz/src/index.ts`,
};

/**
 * `nativeRerun`: test files that run a second time, as the vitest project `tensorflow`, with
 * `VITLENS_TEST_BACKEND=tensorflow` (read by `testBackend()`): the native backend built by
 * `pnpm native` gets the same checks as the backend those files use by default.
 */
export function testConfig(extra: { testTimeout?: number; nativeRerun?: string[] } = {}): ViteUserConfig {
  const include = ['test/**/*.test.ts', 'src/**/*.test.ts'];
  const common = {
    testTimeout: extra.testTimeout ?? 60_000,
    hookTimeout: 120_000,
    pool: 'forks' as const,
    fileParallelism: false,
  };
  if (!extra.nativeRerun) return { resolve: { alias: workspaceAlias }, test: { ...common, include } };
  // A project's `include` would be merged with a root one: each project names its own files.
  return {
    resolve: { alias: workspaceAlias },
    test: {
      ...common,
      projects: [
        { extends: true, test: { name: 'default', include } },
        { extends: true, test: { name: 'tensorflow', include: extra.nativeRerun, env: { VITLENS_TEST_BACKEND: 'tensorflow' } } },
      ],
    },
  };
}
