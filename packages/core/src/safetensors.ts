// Placeholder replaced by the safetensors implementation (see README): read/write safetensors.
export {};
