// Public API of @vitlens/cifar10-data (filled in by its implementation).
export const version = '0.1.0';
