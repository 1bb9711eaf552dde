// Node-only helpers of @vitlens/core (file system). The main entry stays browser-safe.
export { writeFileAtomic, writeJsonAtomic } from './atomic';
export { readSafetensorsFile, writeSafetensorsFile } from './safetensors-file';
