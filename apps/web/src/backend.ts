// Every browser backend is bundled (no CDN): the page works offline once loaded. Importing a backend
// module registers it.
import '@tensorflow/tfjs-backend-cpu';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { type BackendChoice, type BackendName, BACKEND_NAMES, initBackend } from '@vitlens/core';

/** The wasm binaries as files Vite emitted next to the page (resolved against the page URL). */
export const WASM_PATHS: Record<string, string> = {
  'tfjs-backend-wasm.wasm': new URL(wasmPlainUrl, document.baseURI).href,
  'tfjs-backend-wasm-simd.wasm': new URL(wasmSimdUrl, document.baseURI).href,
  'tfjs-backend-wasm-threaded-simd.wasm': new URL(wasmThreadedUrl, document.baseURI).href,
};

/**
 * `?backend=wasm` in the page URL forces one backend (useful to compare them); otherwise the best
 * available: webgpu → webgl → wasm → cpu.
 */
export function requestedBackend(search: string = location.search): BackendName | undefined {
  const value = new URLSearchParams(search).get('backend');
  if (value === null || value === '') return undefined;
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) {
    throw new Error(`?backend=${value} is not a backend; valid: ${BACKEND_NAMES.filter((b) => b !== 'tensorflow').join(', ')}`);
  }
  return value as BackendName;
}

/**
 * The WebGL renderer's name when it is a software rasteriser (SwiftShader, llvmpipe): a browser
 * without GPU acceleration. There the webgl backend is several times slower than wasm (see
 * results/web-timing.json), so the page goes to wasm first.
 */
export function softwareWebGlRenderer(): string | undefined {
  try {
    const canvas = document.createElement('canvas');
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return undefined;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return /swiftshader|llvmpipe|softpipe|software/i.test(renderer) ? renderer : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Pick and start the tfjs backend for this browser: `prefer` when given; else wasm when WebGL
 * renders in software; else the best available (webgpu → webgl → wasm → cpu).
 */
export async function startBackend(prefer: BackendName | undefined, log: (line: string) => void): Promise<BackendChoice> {
  const common = {
    log,
    runtime: 'browser' as const,
    // Every backend is imported (so registered) above, and initBackend uses a registered backend as
    // is; the wasm binaries' URLs go through the wasm module the page imported.
    wasmPaths: WASM_PATHS,
    setWasmPaths: wasm.setWasmPaths,
  };
  if (prefer === undefined) {
    const software = softwareWebGlRenderer();
    if (software !== undefined) {
      try {
        const choice = await initBackend({ ...common, prefer: 'wasm' });
        return { ...choice, reason: `backend 'wasm' (${choice.module}): WebGL renders in software here (${software}), where wasm is faster` };
      } catch (error) {
        log(`vitlens: wasm failed (${error instanceof Error ? error.message : String(error)}); trying every backend in order`);
      }
    }
  }
  return initBackend({ ...common, prefer });
}
