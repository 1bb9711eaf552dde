// safetensors throughput on a ViT-shaped set of float32 weights (12 layers of hidden H, MLP 4H).
// Run after `pnpm --filter @vitlens/core build`:  H=768 node packages/core/bench/safetensors.bench.mjs
// (H=768 ≈ ViT-B/16 encoder, 85M parameters, 340 MB; H=192 ≈ ViT-Tiny, 5.3M parameters). Medians.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { float32ToF16, readSafetensors, tensorToFloat32, writeSafetensors } from '../dist/index.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../dist/node/index.js';

const H = Number(process.env.H ?? 192);
const LAYERS = 12;
const tensors = {};
const make = (shape) => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (i % 97) * 0.01;
  return { dtype: 'F32', shape, data };
};
for (let l = 0; l < LAYERS; l++) {
  for (const k of ['query', 'key', 'value', 'output']) {
    tensors[`layer.${l}.${k}.weight`] = make([H, H]);
    tensors[`layer.${l}.${k}.bias`] = make([H]);
  }
  tensors[`layer.${l}.fc1.weight`] = make([4 * H, H]);
  tensors[`layer.${l}.fc2.weight`] = make([H, 4 * H]);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn, repeat = 5) {
  const ms = [];
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  return +median(ms).toFixed(1);
}

const params = Object.values(tensors).reduce((n, t) => n + t.data.length, 0);
let bytes;
const result = { H, params, megabytes: 0 };
result.write_ms = await time(() => {
  bytes = writeSafetensors(tensors);
});
result.megabytes = +(bytes.length / 1e6).toFixed(1);
result.read_aligned_ms = await time(() => readSafetensors(bytes));
const shifted = new Uint8Array(bytes.length + 1);
shifted.set(bytes, 1);
result.read_unaligned_copy_ms = await time(() => readSafetensors(shifted.subarray(1)));
const big = tensors['layer.0.fc1.weight'].data;
result.f32_to_f16_Melem_per_s = +(big.length / (await time(() => float32ToF16(big))) / 1e3).toFixed(0);
const half = { dtype: 'F16', shape: [big.length], data: float32ToF16(big) };
result.f16_to_f32_Melem_per_s = +(big.length / (await time(() => tensorToFloat32(half))) / 1e3).toFixed(0);
const file = path.join(os.tmpdir(), `vitlens-st-bench-${process.pid}.safetensors`);
try {
  result.write_file_ms = await time(() => writeSafetensorsFile(file, tensors), 3);
  result.read_file_ms = await time(() => readSafetensorsFile(file), 3);
} finally {
  await fs.rm(file, { force: true });
}
console.log(JSON.stringify(result));
