export { fastWasmKernelsActive, registerFastWasmKernels, unregisterFastWasmKernels } from './batch-matmul';
