/**
 * IEEE 754 half precision (F16) and bfloat16 (BF16) conversions. Both are stored as raw 16-bit
 * patterns in a Uint16Array, as safetensors and PyTorch lay them out.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

let table: Float32Array | undefined;

/** Decode F16 bit patterns to float32 through a 65,536-entry table (256 KB, built on first use). */
export function float16ArrayToFloat32(bits: Uint16Array): Float32Array {
  if (table === undefined) {
    table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = float16BitsToFloat32(i);
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return out;
}

/** Decode one F16 bit pattern: normals, subnormals (m × 2^-24), ±0, ±Infinity and NaN. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function float32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: ±Infinity
  if (e <= 0) {
    // Subnormal half (or zero): value = m × 2^-24 with m = full mantissa >> (14 - e).
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    let half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // Round to nearest, ties to even; a carry rolls into the exponent (up to Infinity), as it should.
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

/** float32 values → F16 bit patterns, rounding to nearest (ties to even) like PyTorch's `.half()`. */
export function float32ToF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToF16Bits(values[i]!);
  return out;
}

/** float32 values → BF16 bit patterns (the top 16 bits, rounded to nearest, ties to even; NaN kept). */
export function float32ToBF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) {
      out[i] = (x >>> 16) | 0x40; // quiet NaN, sign kept
    } else {
      out[i] = Math.floor((x + 0x7fff + ((x >>> 16) & 1)) / 65536) & 0xffff;
    }
  }
  return out;
}
