import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.base';

// tfjs stays external: gradients come from @vitlens/core (src/register-gradients.ts).
export default defineConfig(libraryConfig({ index: 'src/index.ts', 'parallel-worker': 'src/parallel/worker.ts' }));
