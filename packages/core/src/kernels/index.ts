export { fastWasmKernelsActive, registerFastWasmKernels, unregisterFastWasmKernels } from './batch-matmul';
export { FUSED_KERNELS, type FusedKernelName, erf32, fusedKernel, registerFusedWasmKernels, unregisterFusedWasmKernels } from './fused';
export { NATIVE_KERNELS, type NativeKernelName, registerNativeKernels, unregisterNativeKernels } from './native';
