import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createConfig, ViTForImageClassification } from '@vitlens/vit-model';
import { saveCheckpoint } from '@vitlens/vit-model/node';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A tiny real checkpoint: the vit-mini preset cut to 2 layers, random weights from a fixed seed. */
export async function writeTinyCheckpoint(dir: string): Promise<void> {
  const model = ViTForImageClassification.create(createConfig('vit-mini-patch4-32', { num_hidden_layers: 2 }), { seed: 7 });
  try {
    await saveCheckpoint(model, dir);
  } finally {
    model.dispose();
  }
}

/** Smooth colour ramps so JPEG keeps them; `alpha` writes an RGBA PNG. */
function pixels(width: number, height: number, channels: 3 | 4): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      out[i] = Math.round((255 * x) / (width - 1));
      out[i + 1] = Math.round((255 * y) / (height - 1));
      out[i + 2] = 128;
      if (channels === 4) out[i + 3] = 200;
    }
  }
  return out;
}

export async function writePngFile(file: string, width: number, height: number, alpha = false): Promise<void> {
  const png = new PNG({ width, height });
  const rgba = pixels(width, height, 4);
  if (!alpha) for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
  png.data = Buffer.from(rgba);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, PNG.sync.write(png));
}

export async function writeJpegFile(file: string, width: number, height: number): Promise<void> {
  const encoded = jpeg.encode({ data: Buffer.from(pixels(width, height, 4)), width, height }, 90);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, encoded.data);
}

/** A real JPEG cut off halfway through its scan: the SOI and headers are fine, the decoder fails. */
export async function writeCorruptJpegFile(file: string, width = 32, height = 32): Promise<void> {
  const encoded = jpeg.encode({ data: Buffer.from(pixels(width, height, 4)), width, height }, 90);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, encoded.data.subarray(0, Math.floor(encoded.data.length / 2)));
}

const execFileAsync = promisify(execFile);
const builtBin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/**
 * Run the built CLI (on wasm unless `--backend` or `env` says otherwise); resolves to
 * {code, stdout, stderr} instead of throwing on a non-zero exit.
 */
export async function runBuiltCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [builtBin, ...args], {
      encoding: 'utf8',
      env: { ...process.env, VITLENS_BACKEND: 'wasm', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
