// Node-only entry of @vitlens/vit-model (file system, network).
export { defaultCacheDir, loadCheckpoint, saveCheckpoint, type LoadCheckpointOptions } from './checkpoint-io';
