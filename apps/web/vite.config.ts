import { defineConfig } from 'vite';
import { workspaceAlias } from '../../vitest.shared';

// The page bundles the workspace packages from their sources (as the tests do), so it always
// matches the tree it is built from; one tfjs-core instance is forced with `dedupe`.
export default defineConfig({
  base: './',
  resolve: {
    alias: workspaceAlias,
    dedupe: ['@tensorflow/tfjs-core'],
  },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // tfjs with four backends is a large bundle by nature
    chunkSizeWarningLimit: 4096,
    assetsInlineLimit: 0,
  },
});
