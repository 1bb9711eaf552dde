// Node-only entry of @vitlens/cifar10-data (file system, network).
export {};
