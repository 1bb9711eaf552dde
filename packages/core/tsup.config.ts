import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// Code splitting puts the safetensors module in one shared chunk, so `@vitlens/core` and
// `@vitlens/core/node` share one SafetensorsError class (instanceof works across the entries).
export default defineConfig({ ...libraryConfig({ index: 'src/index.ts', 'node/index': 'src/node/index.ts' }), splitting: true });
