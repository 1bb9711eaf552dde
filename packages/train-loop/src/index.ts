// Public API of @vitlens/train-loop (filled in by its implementation).
export const version = '0.1.0';
