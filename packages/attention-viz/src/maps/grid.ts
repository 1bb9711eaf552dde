/**
 * The patch grid of an image: `gridHeight = imageHeight / patchSize`, `gridWidth = imageWidth / patchSize`
 * (8×8 for patch 4 at 32×32, 14×14 for patch 16 at 224×224, 2×3 for patch 16 at 32×48).
 */
export function patchGrid(imageHeight: number, imageWidth: number, patchSize: number): { gridHeight: number; gridWidth: number } {
  for (const [name, v] of [
    ['imageHeight', imageHeight],
    ['imageWidth', imageWidth],
    ['patchSize', patchSize],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`patchGrid: ${name} must be a positive integer, got ${v}`);
  }
  if (imageHeight % patchSize !== 0 || imageWidth % patchSize !== 0) {
    throw new Error(`patchGrid: image ${imageHeight}×${imageWidth} is not a whole number of ${patchSize}×${patchSize} patches`);
  }
  return { gridHeight: imageHeight / patchSize, gridWidth: imageWidth / patchSize };
}
