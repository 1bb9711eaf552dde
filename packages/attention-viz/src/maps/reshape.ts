import type { AttentionMap } from '../types';

/**
 * Patch values in token order → `[gridHeight, gridWidth]` map. Token `1 + p` is the patch at row
 * `floor(p / gridWidth)`, column `p % gridWidth` (row-major, as the patch embedding flattens it), so
 * this is a plain reshape: it needs exactly `gridHeight·gridWidth` values (the CLS entry removed) and
 * never tiles or pads.
 */
export function toGrid(patchValues: Float32Array, gridHeight: number, gridWidth: number): AttentionMap {
  if (patchValues.length !== gridHeight * gridWidth) {
    throw new Error(
      `toGrid: ${patchValues.length} patch values do not fill a ${gridHeight}×${gridWidth} grid ` +
        `(${gridHeight * gridWidth} expected; drop the CLS token first)`,
    );
  }
  return { data: Float32Array.from(patchValues), height: gridHeight, width: gridWidth };
}
