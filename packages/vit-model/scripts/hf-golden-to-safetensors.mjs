#!/usr/bin/env node
// The last step of the hf-written fixture: hf_roundtrip.py writes <out>/hf-written/golden.json (the
// fixed inputs and transformers' own outputs as float lists); this turns it into the committed
// test/fixtures/hf-written/golden.safetensors, which hf-written.test.ts reads:
//   pixel_values_nchw [2, 3, 24, 24], logits [2, 5], attentions.<l> [2, 3, 37, 37], all F32,
//   metadata { source, transformers }.
// The values are float32 in golden.json already (numpy float32 → Python float is exact), and
// @vitlens/core's writeSafetensors lays the file out as the safetensors library does, so the bytes
// follow from golden.json alone (test/hf-golden.test.ts checks that on the committed file).
//
// Usage (after `pnpm build`):
//   node packages/vit-model/scripts/hf-golden-to-safetensors.mjs <golden.json> [<out.safetensors>]
// The output defaults to golden.safetensors next to golden.json. The whole fixture, from a run of
// `python3 hf_roundtrip.py <export-dir> <out-dir>`:
//   <out-dir>/hf-written/{config.json, model.safetensors}  → test/fixtures/hf-written/
//   golden.json → golden.safetensors (this script)         → test/fixtures/hf-written/
//   <out-dir>/report.json                                  → test/fixtures/hf-written/hf-roundtrip-report.json
import fs from 'node:fs';
import path from 'node:path';
import { writeSafetensors } from '@vitlens/core';

/** What the fixture's metadata says about where the numbers come from (as hf_roundtrip.py made them). */
const SOURCE = 'transformers.ViTForImageClassification, torch.manual_seed(1234), eval mode';

function fail(message) {
  console.error(`hf-golden-to-safetensors: ${message}`);
  process.exit(1);
}

/** One float list with its shape → an F32 tensor, checking that the two agree. */
function f32(name, values, shape, file) {
  if (!Array.isArray(values) || !Array.isArray(shape)) fail(`${file}: '${name}' or its shape is missing`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) fail(`${file}: '${name}' has ${values.length} values, shape [${shape.join(', ')}] needs ${size}`);
  return { dtype: 'F32', shape: [...shape], data: Float32Array.from(values) };
}

/** golden.json (as parsed) → the tensors and metadata of golden.safetensors. */
function goldenTensors(golden, file = 'golden.json') {
  const tensors = {
    pixel_values_nchw: f32('inputsNCHW', golden.inputsNCHW, golden.inputShapeNCHW, file),
    logits: f32('logits', golden.logits, golden.logitsShape, file),
  };
  if (!Array.isArray(golden.attentions) || golden.attentions.length === 0) fail(`${file}: 'attentions' must list one float list per layer`);
  golden.attentions.forEach((values, l) => {
    tensors[`attentions.${l}`] = f32(`attentions[${l}]`, values, golden.attentionShape, file);
  });
  if (typeof golden.transformers !== 'string') fail(`${file}: 'transformers' (the version that made it) is missing`);
  return { tensors, metadata: { source: SOURCE, transformers: golden.transformers } };
}

const [input, output] = process.argv.slice(2);
if (input === undefined || input === '--help' || input === '-h') {
  console.log('usage: node packages/vit-model/scripts/hf-golden-to-safetensors.mjs <golden.json> [<out.safetensors>]');
  process.exit(input === undefined ? 1 : 0);
}
let golden;
try {
  golden = JSON.parse(fs.readFileSync(input, 'utf8'));
} catch (error) {
  fail(`${input}: ${error.message}`);
}
const { tensors, metadata } = goldenTensors(golden, input);
const out = output ?? path.join(path.dirname(input), 'golden.safetensors');
fs.writeFileSync(out, writeSafetensors(tensors, metadata));
console.log(`${out}: ${Object.keys(tensors).join(', ')} (transformers ${metadata.transformers})`);
