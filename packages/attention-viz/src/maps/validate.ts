import type { AttentionMap, HeadFusion, HeadSelection, TokenGrid } from '../types';
import { HEAD_FUSIONS } from '../types';

function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}

/** Special tokens before the patches (1 = CLS unless the grid says otherwise). */
export function prefixTokens(grid: TokenGrid): number {
  return grid.prefixTokens ?? 1;
}

/** Check a token grid and return `T = prefixTokens + gridHeight·gridWidth`. */
export function tokenCount(where: string, grid: TokenGrid): number {
  for (const field of ['heads', 'gridHeight', 'gridWidth'] as const) {
    if (!isPositiveInt(grid[field])) throw new Error(`${where}: ${field} must be a positive integer, got ${String(grid[field])}`);
  }
  const prefix = prefixTokens(grid);
  if (!isPositiveInt(prefix)) throw new Error(`${where}: prefixTokens must be a positive integer (1 = CLS, 2 = CLS + distillation), got ${String(prefix)}`);
  return prefix + grid.gridHeight * grid.gridWidth;
}

/** Check a query token (the row a map reads) against the grid's special tokens. */
export function checkQuery(where: string, query: number | undefined, grid: TokenGrid): number {
  const q = query ?? 0;
  const prefix = prefixTokens(grid);
  if (!Number.isInteger(q) || q < 0 || q >= prefix) {
    throw new Error(`${where}: query must be a special token in 0..${prefix - 1} (0 = CLS${prefix > 1 ? ', 1 = distillation' : ''}), got ${String(query)}`);
  }
  return q;
}

/** Check that one layer's attention holds `[heads, T, T]` finite values. */
export function checkLayer(where: string, name: string, values: unknown, grid: TokenGrid, t: number): Float32Array {
  if (!(values instanceof Float32Array)) {
    throw new Error(`${where}: ${name} must be a Float32Array [heads, T, T], got ${values === null ? 'null' : typeof values}`);
  }
  const expected = grid.heads * t * t;
  if (values.length !== expected) {
    throw new Error(
      `${where}: ${name} has ${values.length} values; expected heads·T·T = ${grid.heads}·${t}·${t} = ${expected} ` +
        `(T = ${prefixTokens(grid)} special + ${grid.gridHeight}×${grid.gridWidth} patches)`,
    );
  }
  return values;
}

/** Check a head selection against the number of heads. */
export function checkSelection(where: string, selection: HeadSelection, heads: number): { fusion: HeadFusion; head?: number } {
  const fusion = selection.fusion ?? 'mean';
  if (!HEAD_FUSIONS.includes(fusion)) {
    throw new Error(`${where}: fusion must be one of ${HEAD_FUSIONS.join(', ')}, got '${String(fusion)}'`);
  }
  const head = selection.head;
  if (head !== undefined && (!Number.isInteger(head) || head < 0 || head >= heads)) {
    throw new Error(`${where}: head must be an integer in 0..${heads - 1}, got ${String(head)}`);
  }
  return head === undefined ? { fusion } : { fusion, head };
}

/** Check an AttentionMap's shape. */
export function checkMap(where: string, map: AttentionMap): void {
  if (!isPositiveInt(map.height) || !isPositiveInt(map.width)) {
    throw new Error(`${where}: map height and width must be positive integers, got ${String(map.height)}×${String(map.width)}`);
  }
  if (!(map.data instanceof Float32Array) || map.data.length !== map.height * map.width) {
    throw new Error(
      `${where}: map data must be a Float32Array of height·width = ${map.height * map.width} values, got ${map.data?.length ?? 'none'}`,
    );
  }
}
