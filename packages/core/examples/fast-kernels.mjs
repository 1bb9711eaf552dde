// On wasm, initBackend registers vitlens's SIMD matmul and fused kernels; fastKernels: false keeps the stock ones.
import { fastWasmKernelsActive, initBackend, tf } from '@vitlens/core';

await initBackend({ prefer: 'wasm' });
console.log(fastWasmKernelsActive()); // true
const product = tf.matMul(tf.ones([256, 65, 32]), tf.ones([256, 65, 32]), false, true);
console.log(product.shape); // [ 256, 65, 65 ]

await initBackend({ prefer: 'wasm', fastKernels: false });
console.log(fastWasmKernelsActive()); // false
