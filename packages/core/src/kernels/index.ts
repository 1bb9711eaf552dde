export { fastWasmKernelsActive, registerFastWasmKernels, unregisterFastWasmKernels } from './batch-matmul';
export { FUSED_KERNELS, type FusedKernelName, erf32, fusedKernel, registerFusedWasmKernels, unregisterFusedWasmKernels } from './fused';
export { registerNativeKernels, unregisterNativeKernels } from './native';
