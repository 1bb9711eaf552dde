// Node-only entry of @vitlens/vit-model (file system, network).
export {};
