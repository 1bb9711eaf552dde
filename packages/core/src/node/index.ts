// Node-only helpers of @vitlens/core (file system). The main entry stays browser-safe.
export { writeFileAtomic, writeJsonAtomic } from './atomic';
export { readJsonFile } from './json-file';
export { readSafetensorsFile, readSafetensorsFileHeader, writeSafetensorsFile } from './safetensors-file';
