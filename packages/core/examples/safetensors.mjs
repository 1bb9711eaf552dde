// safetensors from and to bytes, as the reference implementation writes them (browser-safe).
import { SafetensorsError, float32ToF16, readSafetensors, safetensorsChunks, tensorToFloat32, writeSafetensors } from '@vitlens/core';

const tensors = {
  'classifier.bias': { dtype: 'F32', shape: [2], data: new Float32Array([0.5, -1]) },
  step: { dtype: 'I64', shape: [], data: new BigInt64Array([3n]) },
};
const bytes = writeSafetensors(tensors, { format: 'pt' });
console.log(bytes.length); // 184 (header: {"__metadata__":{"format":"pt"},"step":{…,"data_offsets":[0,8]},"classifier.bias":{…,"data_offsets":[8,16]}})

const { tensors: back, metadata } = readSafetensors(bytes, { source: 'model.safetensors' });
console.log(back); // Map(2) { 'step' => { dtype: 'I64', shape: [], data: BigInt64Array(1) [ 3n ] }, 'classifier.bias' => { dtype: 'F32', shape: [ 2 ], data: Float32Array(2) [ 0.5, -1 ] } }
console.log(metadata); // { format: 'pt' }

try {
  readSafetensors(new Uint8Array(5), { source: 'model.safetensors' });
} catch (error) {
  if (!(error instanceof SafetensorsError)) throw error;
  console.log(error.message); // model.safetensors: 5 bytes is shorter than the 8-byte header length that starts a safetensors file
}

// The same bytes in pieces (length + header, then each tensor's bytes), for big checkpoints.
console.log(safetensorsChunks(tensors, { format: 'pt' }).map((c) => c.length)); // [ 168, 8, 8 ]

// Half precision, bit-identical to PyTorch's .half()
const half = float32ToF16([1, 0.1, 70000]);
console.log(half); // Uint16Array(3) [ 15360, 11878, 31744 ]
console.log(tensorToFloat32({ dtype: 'F16', shape: [3], data: half })); // Float32Array(3) [ 1, 0.0999755859375, Infinity ]
