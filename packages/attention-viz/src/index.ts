// Public API of @vitlens/attention-viz (filled in by its implementation).
export const version = '0.1.0';
