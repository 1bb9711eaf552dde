import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// tfjs-core's gradient registrations are ESM files Node cannot load as they are (extensionless
// imports): bundle them. They register into tfjs-core's global registry and run ops on the global
// engine, so the app's one tfjs-core instance gets them. Everything else of tfjs stays external.
export default defineConfig({
  ...libraryConfig({ index: 'src/index.ts', 'parallel-worker': 'src/parallel/worker.ts' }),
  external: [/^@tensorflow\/(?!tfjs-core\/dist\/register_all_gradients)/, /^@vitlens\//],
  noExternal: [/^@tensorflow\/tfjs-core\/dist\/register_all_gradients/],
});
