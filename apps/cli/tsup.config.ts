import fs from 'node:fs/promises';
import { defineConfig } from 'tsup';

// The `vitlens` command (dist/bin.js, ESM) and the library entry (`@vitlens/cli`: dist/index.js and
// dist/index.cjs with .d.ts/.d.cts); dependencies stay external (installed next to it).
export default defineConfig({
  entry: { bin: 'src/bin.ts', index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts' } },
  // `import.meta.url` in the CJS build (locate.ts finds the package folder from it)
  shims: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  // `vitlens serve` serves the built page from dist/web, so the published package carries it.
  // (@vitlens/web is a devDependency, so turbo and `pnpm --filter @vitlens/cli...` build it first.)
  async onSuccess() {
    // The command is ESM only; the CJS pass built a second copy of it.
    for (const file of ['bin.cjs', 'bin.cjs.map']) await fs.rm(new URL(`./dist/${file}`, import.meta.url), { force: true });
    const from = new URL('../web/dist/', import.meta.url);
    const to = new URL('./dist/web/', import.meta.url);
    try {
      await fs.access(new URL('index.html', from));
    } catch {
      console.warn('cli build: apps/web/dist is not built; `vitlens serve` will look for it at run time');
      await copyDefaultModel();
      return;
    }
    await fs.rm(to, { recursive: true, force: true });
    await fs.cp(from, to, { recursive: true });
    await copyDefaultModel();
  },
});

/** The shipped model (`<repo>/models/default`) travels inside the package as dist/models/default. */
async function copyDefaultModel(): Promise<void> {
  const from = new URL('../../models/default/', import.meta.url);
  const to = new URL('./dist/models/default/', import.meta.url);
  await fs.rm(to, { recursive: true, force: true });
  for (const file of ['config.json', 'preprocessor_config.json', 'model.safetensors', 'trainer_state.json', 'average.json']) {
    try {
      await fs.mkdir(to, { recursive: true });
      await fs.copyFile(new URL(file, from), new URL(file, to));
    } catch {
      // trainer_state.json and average.json are optional; a missing model is reported by the commands at run time
    }
  }
}
