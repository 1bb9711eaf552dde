/** `[T, T]` identity. */
export function identity(t: number): Float64Array {
  const out = new Float64Array(t * t);
  for (let i = 0; i < t; i++) out[i * t + i] = 1;
  return out;
}

/** `a · b` for `[T, T]` row-major matrices. */
export function matmul(a: Float64Array, b: Float64Array, t: number): Float64Array {
  const out = new Float64Array(t * t);
  for (let i = 0; i < t; i++) {
    const rowOut = i * t;
    for (let k = 0; k < t; k++) {
      const aik = a[i * t + k] as number;
      if (aik === 0) continue;
      const rowB = k * t;
      for (let j = 0; j < t; j++) out[rowOut + j] = (out[rowOut + j] as number) + aik * (b[rowB + j] as number);
    }
  }
  return out;
}

/** Row `row` of a `[T, T]` matrix without its first column: the CLS query over the patch keys. */
export function clsPatchRow(m: Float64Array, t: number, row = 0): Float32Array {
  const out = new Float32Array(t - 1);
  for (let j = 1; j < t; j++) out[j - 1] = m[row * t + j] as number;
  return out;
}
