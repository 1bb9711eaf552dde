// safetensors files with @vitlens/core/node (CommonJS): written atomically, errors name the file.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { readSafetensorsFile, writeSafetensorsFile } = require('@vitlens/core/node');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitlens-example-'));
  const file = path.join(dir, 'out', 'model.safetensors');
  const tensors = { 'classifier.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) } };
  await writeSafetensorsFile(file, tensors, { format: 'pt' }); // creates out/
  const { tensors: back, metadata } = await readSafetensorsFile(file);
  console.log(back.get('classifier.weight'), metadata);
  // { dtype: 'F32', shape: [ 2, 3 ], data: Float32Array(6) [ 1, 2, 3, 4, 5, 6 ] } { format: 'pt' }
  await readSafetensorsFile(path.join(dir, 'missing.safetensors')).catch((error) => console.log(error.message));
  // /tmp/vitlens-example-…/missing.safetensors: cannot read safetensors file: no such file
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
