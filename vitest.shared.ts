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

export function testConfig(extra: { testTimeout?: number } = {}): ViteUserConfig {
  return {
    resolve: { alias: workspaceAlias },
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      testTimeout: extra.testTimeout ?? 60_000,
      hookTimeout: 120_000,
      pool: 'forks',
      fileParallelism: false,
    },
  };
}
