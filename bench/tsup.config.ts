import { defineConfig } from 'tsup';

// Two entries: the orchestrator and the child that runs one measurement. Workspace packages and
// tfjs stay external so the bench runs the same built code a user installs.
export default defineConfig({
  entry: { run: 'src/run.ts', job: 'src/job.ts', profile: 'src/profile.ts' },
  format: ['esm'],
  target: 'es2022',
  platform: 'node',
  clean: true,
  sourcemap: true,
  splitting: false,
  external: [/^@tensorflow\//, /^@vitlens\//],
});
