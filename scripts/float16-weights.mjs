// A model.safetensors with every F32 tensor stored as F16: the same names, shapes and metadata, half
// the bytes. scripts/ship-model.mjs stores the shipped model this way; every loader of vitlens (and
// transformers' from_pretrained) reads F16 and computes in float32. Uses the built @vitlens/core.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Copy the safetensors file `from` to `to` with its F32 tensors as F16; other dtypes are copied as they are. */
export async function copyAsFloat16(from, to) {
  const core = await import(pathToFileURL(path.join(REPO, 'packages/core/dist/index.js')).href);
  const { tensors, metadata } = core.readSafetensors(new Uint8Array(fs.readFileSync(from)), { source: from });
  const half = new Map();
  for (const [name, tensor] of tensors) {
    half.set(name, tensor.dtype === 'F32' ? { dtype: 'F16', shape: tensor.shape, data: core.float32ToF16(core.tensorToFloat32(tensor)) } : tensor);
  }
  fs.writeFileSync(to, core.writeSafetensors(half, metadata));
}
