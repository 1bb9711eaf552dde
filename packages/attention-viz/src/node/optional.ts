import { createRequire } from 'node:module';

// The Node entry's heavy helpers are optional peer dependencies of @vitlens/attention-viz: the main
// entry (maps, colormaps, the element) needs none of them, so `npm install @vitlens/attention-viz`
// stays small. They are loaded on first use, and a missing one is named with the command that
// installs it.

/** The packages `@vitlens/attention-viz/node` loads on demand, and what each is for. */
export const NODE_PEERS = {
  pngjs: 'PNG encoding and decoding (encodePng, decodePng, readPng, writePng, writeVisualization)',
  '@napi-rs/canvas': 'text in figures (renderFigure, writeVisualization)',
  'dejavu-fonts-ttf': 'the font of figures (renderFigure, writeVisualization)',
} as const;

export type NodePeer = keyof typeof NODE_PEERS;

// Resolve from this file, so the peers are looked up from where the package is installed. The ESM
// build has import.meta.url; the CJS build has none (esbuild leaves import.meta empty) but has
// __filename. (Not the other way round: `node -e` defines a global __filename of '[eval]'.)
const requireHere = createRequire(import.meta.url ?? __filename);

function isMissing(error: unknown, name: string): boolean {
  const e = error as NodeJS.ErrnoException;
  // the package itself, not something it loads (@napi-rs/canvas's platform binary is another package)
  return (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') && String(e.message).includes(`'${name}`);
}

/** The error for a peer that is not installed: names the package, what needs it and the install command. */
export function missingPeerError(name: NodePeer, caller: string, cause?: unknown): Error {
  const install = name === 'pngjs' ? 'npm install pngjs' : 'npm install @napi-rs/canvas dejavu-fonts-ttf';
  return new Error(
    `${caller}: '${name}' is not installed; @vitlens/attention-viz/node needs this optional peer dependency for ${NODE_PEERS[name]}: ${install}`,
    cause === undefined ? undefined : { cause },
  );
}

/** `require(name)` on first use; a missing package becomes `missingPeerError`. */
export function requirePeer<T>(name: NodePeer, caller: string): T {
  try {
    return requireHere(name) as T;
  } catch (error) {
    if (isMissing(error, name)) throw missingPeerError(name, caller, error);
    throw new Error(`${caller}: '${name}' is installed but could not be loaded (${(error as Error).message})`, { cause: error });
  }
}

/** `import(name)` on first use (for packages with native binaries); a missing package becomes `missingPeerError`. */
export async function importPeer<T>(name: NodePeer, caller: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    if (isMissing(error, name)) throw missingPeerError(name, caller, error);
    throw new Error(
      `${caller}: '${name}' is installed but could not be loaded (${(error as Error).message}); ` +
        'its prebuilt binary for this platform must be installed too (npm installs it as an optional dependency of the package)',
      { cause: error },
    );
  }
}

/** The path of a file inside a peer package (`dejavu-fonts-ttf/ttf/DejaVuSans.ttf`). */
export function resolvePeerFile(name: NodePeer, file: string, caller: string): string {
  try {
    return requireHere.resolve(`${name}/${file}`);
  } catch (error) {
    if (isMissing(error, name)) throw missingPeerError(name, caller, error);
    throw error;
  }
}
