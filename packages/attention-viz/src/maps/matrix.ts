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

/** Row `row` of a `[T, T]` matrix without its first `prefix` columns: a query token over the patch keys. */
export function patchRow(m: Float64Array, t: number, row = 0, prefix = 1): Float32Array {
  const out = new Float32Array(t - prefix);
  for (let j = prefix; j < t; j++) out[j - prefix] = m[row * t + j] as number;
  return out;
}
