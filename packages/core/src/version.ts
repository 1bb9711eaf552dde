// Read from package.json at build time (esbuild inlines only this field), so `changeset version`
// bumps cannot leave it stale.
import { version as packageVersion } from '../package.json';

/** The version of @vitlens/core. */
export const version: string = packageVersion;
