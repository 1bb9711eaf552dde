import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// Code splitting puts the safetensors module in one shared chunk, so `@vitlens/core` and
// `@vitlens/core/node` share one SafetensorsError class (instanceof works across the entries).
// `@vitlens/core/image` is the image decoder alone (no TensorFlow.js), for worker threads.
export default defineConfig({
  ...libraryConfig({ index: 'src/index.ts', 'node/index': 'src/node/index.ts', 'image/index': 'src/image/index.ts' }),
  splitting: true,
});
