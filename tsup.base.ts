import type { Options } from 'tsup';

/** Shared tsup settings: ESM + CJS with `.d.ts` and `.d.cts`, tfjs kept external. */
export function libraryConfig(entry: Record<string, string> | string[] = ['src/index.ts']): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    splitting: false,
    treeshake: true,
    external: [/^@tensorflow\//, /^@vitlens\//],
  };
}
