import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collectInfo } from '../src/commands/info';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('vitlens info', () => {
  // This repository's test run builds the native backend first (`pnpm native`), so Node picks it.
  it('reports the native tensorflow backend, its TensorFlow version, and why tfjs-node-gpu was skipped', async () => {
    const info = await collectInfo();
    expect(info.backend).toBe('tensorflow');
    expect(info.backendModule).toBe('@tensorflow/tfjs-node');
    expect(info.tensorflow).toMatch(/^2\.\d+\.\d+/);
    expect(info.tfjsCore).toBe('4.22.0');
    expect(info.skipped.map((s) => s.module)).toEqual(['@tensorflow/tfjs-node-gpu']);
  });

  it('runs from the built binary and prints the chosen backend and the TensorFlow behind it', () => {
    const out = execFileSync(process.execPath, [bin, 'info'], { encoding: 'utf8', env: { ...process.env, VITLENS_BACKEND: '' } });
    expect(out).toMatch(/backend\s+tensorflow via @tensorflow\/tfjs-node\n/);
    expect(out).toMatch(/tensorflow\s+2\.\d+\.\d+ \(libtensorflow behind @tensorflow\/tfjs-node\)/);
  });

  it('reports wasm, without a TensorFlow version, when wasm is forced', () => {
    const out = execFileSync(process.execPath, [bin, 'info', '--json', '--backend', 'wasm'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ backend: 'wasm', backendModule: '@tensorflow/tfjs-backend-wasm', tensorflow: null });
  });

  it('rejects an unknown --backend with the valid choices', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, [bin, 'info', '--backend', 'tpu'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/argument 'tpu' is invalid\. Allowed choices are tensorflow, wasm, cpu\./);
  });

  it('offers only the Node backends in --help, and says a browser backend runs in the browser', () => {
    const help = execFileSync(process.execPath, [bin, 'predict', '--help'], { encoding: 'utf8' });
    expect(help.replace(/\s+/g, ' ')).toMatch(/\(choices: "tensorflow", "wasm", "cpu"\)/);
    expect(help).not.toMatch(/webgpu|webgl/);
    let stderr = '';
    try {
      execFileSync(process.execPath, [bin, 'info', '--backend', 'webgpu'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(
      /argument 'webgpu' is invalid\. webgpu is a browser backend \(the page that `vitlens serve` opens can use it\); in Node the backends are tensorflow, wasm, cpu\./,
    );
  });
});
