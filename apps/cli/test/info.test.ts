import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collectInfo } from '../src/commands/info';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

describe('vitlens info', () => {
  it('reports the wasm backend and why the tfjs-node backends were skipped', async () => {
    const info = await collectInfo();
    expect(info.backend).toBe('wasm');
    expect(info.tfjsCore).toBe('4.22.0');
    expect(info.skipped.map((s) => s.module)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
  });

  it('runs from the built binary and prints the chosen backend', () => {
    const out = execFileSync(process.execPath, [bin, 'info'], { encoding: 'utf8' });
    expect(out).toMatch(/backend\s+wasm via @tensorflow\/tfjs-backend-wasm/);
  });

  it('rejects an unknown --backend with the valid choices', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, [bin, 'info', '--backend', 'tpu'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      stderr = String((error as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/Allowed choices are tensorflow, webgpu, webgl, wasm, cpu/);
  });
});
