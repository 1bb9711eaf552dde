// Public API of @vitlens/vit-model (filled in by its implementation).
export const version = '0.1.0';
