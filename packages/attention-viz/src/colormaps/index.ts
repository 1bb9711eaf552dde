import { GRAY_SEGMENTS, INFERNO_DATA, JET_SEGMENTS, MAGMA_DATA, PLASMA_DATA, TURBO_DATA, VIRIDIS_DATA } from './tables';

export type ColormapName = 'viridis' | 'inferno' | 'magma' | 'plasma' | 'turbo' | 'jet' | 'gray';
export const COLORMAP_NAMES: readonly ColormapName[] = ['viridis', 'inferno', 'magma', 'plasma', 'turbo', 'jet', 'gray'];

/** Entries per table, as matplotlib's default `N`. */
export const COLORMAP_SIZE = 256;

type Segments = readonly (readonly [number, number, number])[];

/**
 * matplotlib's `_create_lookup_table(N, data)` for one channel: sample the piecewise-linear segment
 * data at `linspace(0, 1, N)`; anchor `[x, y0, y1]` has value y0 just left of x and y1 just right.
 */
export function segmentLookup(segments: Segments, n: number): Float64Array {
  const lut = new Float64Array(n);
  const first = segments[0] as readonly [number, number, number];
  const last = segments[segments.length - 1] as readonly [number, number, number];
  lut[0] = first[2];
  lut[n - 1] = last[1];
  // anchors scaled to table positions, compared with integer positions, as matplotlib does
  const xs = segments.map((a) => a[0] * (n - 1));
  for (let i = 1; i < n - 1; i++) {
    let k = 0; // first anchor at or right of i (numpy searchsorted, side 'left')
    while (k < xs.length && (xs[k] as number) < i) k++;
    const y0hi = (segments[k] as readonly number[])[1] as number;
    const y1lo = (segments[k - 1] as readonly number[])[2] as number;
    const distance = (i - (xs[k - 1] as number)) / ((xs[k] as number) - (xs[k - 1] as number));
    lut[i] = Math.min(1, Math.max(0, distance * (y0hi - y1lo) + y1lo));
  }
  return lut;
}

const cache = new Map<ColormapName, Float32Array>();

function build(name: ColormapName): Float32Array {
  const listed: Record<string, readonly number[]> = {
    viridis: VIRIDIS_DATA,
    inferno: INFERNO_DATA,
    magma: MAGMA_DATA,
    plasma: PLASMA_DATA,
    turbo: TURBO_DATA,
  };
  const data = listed[name];
  if (data) return Float32Array.from(data);
  const seg = name === 'jet' ? JET_SEGMENTS : GRAY_SEGMENTS;
  const channels = [seg.red, seg.green, seg.blue].map((s) => segmentLookup(s, COLORMAP_SIZE));
  const out = new Float32Array(COLORMAP_SIZE * 3);
  for (let i = 0; i < COLORMAP_SIZE; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = (channels[c] as Float64Array)[i] as number;
  return out;
}

/** Check a colormap name, listing the valid ones on error. */
export function checkColormap(name: string, where = 'colormap'): ColormapName {
  if (!COLORMAP_NAMES.includes(name as ColormapName)) {
    throw new Error(`${where}: unknown colormap '${name}'; valid: ${COLORMAP_NAMES.join(', ')}`);
  }
  return name as ColormapName;
}

/** The 256-entry table of a colormap, flattened `[r0, g0, b0, r1, …]` in 0..1 (shared; do not modify). */
export function colormapTable(name: ColormapName): Float32Array {
  checkColormap(name, 'colormapTable');
  let table = cache.get(name);
  if (!table) {
    table = build(name);
    cache.set(name, table);
  }
  return table;
}

/** Table index for a value in [0, 1], as matplotlib picks it: `floor(v·N)`, clipped to 0..N−1 (NaN → 0). */
export function colormapIndex(v: number): number {
  if (!(v > 0)) return 0;
  return Math.min(COLORMAP_SIZE - 1, Math.floor(v * COLORMAP_SIZE));
}

/** The colour of `v` ∈ [0, 1] as `[r, g, b]` in 0..1. */
export function colormapColor(name: ColormapName, v: number): [number, number, number] {
  const table = colormapTable(name);
  const i = colormapIndex(v) * 3;
  return [table[i] as number, table[i + 1] as number, table[i + 2] as number];
}
