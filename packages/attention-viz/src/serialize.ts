import type { AttentionData } from './types';

/** JSON form of `AttentionData` (arrays of numbers instead of Float32Arrays), e.g. to embed in a page. */
export interface AttentionDataJson {
  heads: number;
  gridHeight: number;
  gridWidth: number;
  /** Special tokens before the patches; omitted = 1 (CLS). */
  prefixTokens?: number;
  layers: number[][];
  gradients?: number[][];
}

/** `AttentionData` → plain JSON-compatible object. */
export function attentionDataToJson(data: AttentionData): AttentionDataJson {
  const json: AttentionDataJson = {
    heads: data.heads,
    gridHeight: data.gridHeight,
    gridWidth: data.gridWidth,
    layers: data.layers.map((l) => Array.from(l)),
  };
  if (data.prefixTokens !== undefined) json.prefixTokens = data.prefixTokens;
  if (data.gradients) json.gradients = data.gradients.map((g) => Array.from(g));
  return json;
}

/**
 * Parse attention JSON (an object or a JSON string) into `AttentionData`, checking every field.
 * @param source names the input in error messages (a file name, an attribute).
 */
export function attentionDataFromJson(value: unknown, source = 'attention JSON'): AttentionData {
  let obj = value;
  if (typeof value === 'string') {
    try {
      obj = JSON.parse(value);
    } catch (error) {
      throw new Error(`${source}: not valid JSON (${(error as Error).message})`);
    }
  }
  if (typeof obj !== 'object' || obj === null) throw new Error(`${source}: expected an object {heads, gridHeight, gridWidth, layers}`);
  const o = obj as Record<string, unknown>;
  for (const field of ['heads', 'gridHeight', 'gridWidth']) {
    const v = o[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${source}: ${field} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  const heads = o.heads as number;
  const prefix = o.prefixTokens ?? 1;
  if (typeof prefix !== 'number' || !Number.isInteger(prefix) || prefix <= 0) {
    throw new Error(`${source}: prefixTokens must be a positive integer (1 = CLS, 2 = CLS + distillation), got ${JSON.stringify(prefix)}`);
  }
  const t = prefix + (o.gridHeight as number) * (o.gridWidth as number);
  const readLayers = (field: 'layers' | 'gradients'): Float32Array[] => {
    const arr = o[field];
    if (!Array.isArray(arr) || arr.length === 0) throw new Error(`${source}: ${field} must be a non-empty array of [heads·T·T] number arrays`);
    return arr.map((layer, i) => {
      if (!Array.isArray(layer) || layer.length !== heads * t * t) {
        throw new Error(
          `${source}: ${field}[${i}] must hold heads·T·T = ${heads}·${t}·${t} = ${heads * t * t} numbers, got ${Array.isArray(layer) ? layer.length : typeof layer}`,
        );
      }
      return Float32Array.from(layer as number[]);
    });
  };
  const data: AttentionData = { heads, gridHeight: o.gridHeight as number, gridWidth: o.gridWidth as number, layers: readLayers('layers') };
  if (o.prefixTokens !== undefined) data.prefixTokens = prefix;
  if (o.gradients !== undefined) data.gradients = readLayers('gradients');
  return data;
}
