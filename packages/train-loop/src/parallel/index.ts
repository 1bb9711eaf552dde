// Multi-core training for Node: data-parallel gradient workers sharing memory.
export { WorkerGradientEngine, type WorkerGradientEngineOptions } from './engine';
