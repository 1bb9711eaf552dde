import { describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES,
  SAFETENSORS_DTYPES,
  SafetensorsError,
  type SafetensorsTensor,
  float16BitsToFloat32,
  float32ToBF16,
  float32ToF16,
  readSafetensors,
  tensorToFloat32,
  writeSafetensors,
} from '../src/index';

/** Bytes of a safetensors file with the given header text (unpadded) and data section. */
function craft(header: string | object, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function headerText(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

const oneOfEach: Record<string, SafetensorsTensor> = {
  f64: { dtype: 'F64', shape: [3], data: new Float64Array([Math.PI, -1e300, 5e-324]) },
  f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2.25, 3.4028234663852886e38, -0]) },
  f16: { dtype: 'F16', shape: [3], data: float32ToF16([1, -0.5, 65504]) },
  bf16: { dtype: 'BF16', shape: [1, 2], data: float32ToBF16([3, -1e30]) },
  i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
  i32: { dtype: 'I32', shape: [3], data: new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]) },
  i16: { dtype: 'I16', shape: [2, 1], data: new Int16Array([-32768, 32767]) },
  i8: { dtype: 'I8', shape: [3], data: new Int8Array([-128, 1, 127]) },
  u8: { dtype: 'U8', shape: [2, 2, 1], data: new Uint8Array([0, 1, 254, 255]) },
  bool: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
};

describe('safetensors round trip', () => {
  for (const [name, tensor] of Object.entries(oneOfEach)) {
    it(`${tensor.dtype} tensors come back with the same dtype, shape and elements`, () => {
      const back = readSafetensors(writeSafetensors({ [name]: tensor })).tensors.get(name)!;
      expect(back.dtype).toBe(tensor.dtype);
      expect(back.shape).toEqual(tensor.shape);
      expect(back.data.constructor).toBe(tensor.data.constructor);
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(tensor.data as ArrayLike<number | bigint>));
    });
  }

  it('every supported dtype is covered above', () => {
    expect(new Set(Object.values(oneOfEach).map((t) => t.dtype))).toEqual(new Set(SAFETENSORS_DTYPES));
  });

  it('all dtypes together in one file, from an ArrayBuffer, each aligned to its element size', () => {
    const bytes = writeSafetensors(new Map(Object.entries(oneOfEach)));
    const { tensors } = readSafetensors(bytes.slice().buffer);
    expect([...tensors.keys()].sort()).toEqual(Object.keys(oneOfEach).sort());
    for (const [name, t] of tensors) {
      expect(t.data.byteOffset % t.data.BYTES_PER_ELEMENT, name).toBe(0);
      expect(Array.from(t.data as ArrayLike<number | bigint>)).toEqual(Array.from(oneOfEach[name]!.data as ArrayLike<number | bigint>));
    }
  });

  it('scalars (shape []) and zero-size tensors round-trip', () => {
    const bytes = writeSafetensors({
      scalar: { dtype: 'F32', shape: [], data: new Float32Array([42.5]) },
      empty: { dtype: 'I64', shape: [0, 3], data: new BigInt64Array(0) },
      empty2: { dtype: 'F16', shape: [2, 0], data: new Uint16Array(0) },
    });
    const { tensors } = readSafetensors(bytes);
    expect(tensors.get('scalar')).toMatchObject({ dtype: 'F32', shape: [] });
    expect(Array.from(tensors.get('scalar')!.data as Float32Array)).toEqual([42.5]);
    expect(tensors.get('empty')).toMatchObject({ dtype: 'I64', shape: [0, 3] });
    expect(tensors.get('empty')!.data.length).toBe(0);
    expect(tensors.get('empty2')).toMatchObject({ dtype: 'F16', shape: [2, 0] });
  });

  it('__metadata__ round-trips; a file without it reads as {}', () => {
    const t = { w: { dtype: 'U8', shape: [1], data: new Uint8Array([7]) } as SafetensorsTensor };
    const meta = { format: 'pt', 'vitlens.note': 'ünïcode "quoted"\n' };
    expect(readSafetensors(writeSafetensors(t, meta)).metadata).toEqual(meta);
    expect(readSafetensors(writeSafetensors(t)).metadata).toEqual({});
    expect(headerText(writeSafetensors(t, meta)).startsWith('{"__metadata__":{"format":"pt",')).toBe(true);
  });

  it('integer-like tensor names keep the reference order (dtype alignment, then name)', () => {
    const f = (v: number): SafetensorsTensor => ({ dtype: 'F32', shape: [1], data: new Float32Array([v]) });
    const bytes = writeSafetensors({ '10': f(10), '2': f(2), b: { dtype: 'U8', shape: [1], data: new Uint8Array([1]) }, a: f(0) });
    const header = headerText(bytes);
    expect(header.indexOf('"10"')).toBeLessThan(header.indexOf('"2"'));
    expect(header.indexOf('"2"')).toBeLessThan(header.indexOf('"a"'));
    expect(header.indexOf('"a"')).toBeLessThan(header.indexOf('"b"'));
    expect([...readSafetensors(bytes).tensors.keys()]).toEqual(['10', '2', 'a', 'b']);
  });

  it('pads the header with spaces to a multiple of 8 bytes, as the reference writer does', () => {
    for (let len = 1; len <= 9; len++) {
      const bytes = writeSafetensors({ ['x'.repeat(len)]: { dtype: 'U8', shape: [1], data: new Uint8Array([1]) } });
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(n % 8).toBe(0);
      const text = headerText(bytes);
      expect(text.trimEnd().endsWith('}')).toBe(true);
      expect(text.length - text.trimEnd().length).toBeLessThan(8);
      expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    }
  });

  it('matches the reference implementation byte for byte on its own serialisation examples', () => {
    // huggingface/safetensors tensor.rs tests: test_serialization and test_empty.
    const bytes = writeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true))).toBe(64);
    expect(headerText(bytes)).toBe('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}');
    expect(bytes.length).toBe(8 + 64 + 24);
    expect(writeSafetensors({})).toEqual(new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]));
    const withMeta = writeSafetensors({}, { framework: 'pt' });
    expect(Number(new DataView(withMeta.buffer).getBigUint64(0, true))).toBe(40);
    expect(headerText(withMeta)).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it('copies unaligned tensors into aligned arrays and views aligned ones without copying', () => {
    const file = writeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1.5, -3]) } });
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const unaligned = readSafetensors(shifted.subarray(1)).tensors.get('w')!;
    expect(Array.from(unaligned.data as Float32Array)).toEqual([1.5, -3]);
    expect(unaligned.data.buffer).not.toBe(shifted.buffer);
    const aligned = readSafetensors(file).tensors.get('w')!;
    expect(aligned.data.buffer).toBe(file.buffer);
  });
});

describe('safetensors refuses bad files with a message naming the source and the problem', () => {
  const src = { source: 'bad.safetensors' };
  const f32 = (n: number) => new Uint8Array(n * 4);
  const refuse = (bytes: Uint8Array, pattern: RegExp, tensor?: string) => {
    let error: unknown;
    try {
      readSafetensors(bytes, src);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toMatch(/^bad\.safetensors: /);
    expect((error as Error).message).toMatch(pattern);
    expect((error as SafetensorsError).tensor).toBe(tensor);
  };

  it('a file shorter than 8 bytes', () => {
    refuse(new Uint8Array(5), /5 bytes is shorter than the 8-byte header length/);
  });

  it('a header length past the end of the file', () => {
    refuse(craft('{}', new Uint8Array(0), 1000n), /header length 1000 bytes runs past the end of the file \(10 bytes/);
  });

  it('a header over 100 MB, refused before allocating (even a 2^64-1 length)', () => {
    refuse(craft('{}', new Uint8Array(0), BigInt(MAX_HEADER_BYTES + 1)), /header length 100000001 bytes is over the 100000000-byte \(100 MB\) limit/);
    refuse(craft('{}', new Uint8Array(0), 2n ** 64n - 1n), /header length 18446744073709551615 bytes is over/);
  });

  it('a header that is not UTF-8', () => {
    const bytes = craft('{"a"}');
    bytes[9] = 0xff;
    refuse(bytes, /header is not valid UTF-8/);
  });

  it('invalid JSON', () => {
    refuse(craft('{"w": {"dtype": "F32",'), /the header is not valid JSON/);
  });

  it('JSON that is not an object', () => {
    refuse(craft('[1, 2]'), /the header must be a JSON object.*got \[1,2\]/);
    refuse(craft('null'), /the header must be a JSON object.*got null/);
  });

  for (const field of ['dtype', 'shape', 'data_offsets']) {
    it(`a tensor entry missing ${field}`, () => {
      const entry: Record<string, unknown> = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
      delete entry[field];
      refuse(craft({ w: entry }, f32(1)), new RegExp(`tensor 'w': missing field '${field}'`), 'w');
    });
  }

  it('a tensor entry that is not an object', () => {
    refuse(craft({ w: 3 }), /tensor 'w': expected an object \{dtype, shape, data_offsets\}, got 3/, 'w');
  });

  it('an unknown dtype, listing the supported ones', () => {
    refuse(
      craft({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      /tensor 'w': unknown dtype "F8_E4M3"; supported dtypes are I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL/,
      'w',
    );
  });

  it('a negative or non-integer dimension', () => {
    refuse(craft({ w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 0] } }), /tensor 'w': shape \[2, -1\]: dimension 1 is -1, expected a non-negative integer/, 'w');
    refuse(craft({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)), /tensor 'w': shape \[1.5\]: dimension 0 is 1.5/, 'w');
    refuse(craft({ w: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } }, f32(4)), /tensor 'w': shape must be an array/, 'w');
  });

  it('malformed data_offsets', () => {
    refuse(craft({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1)), /tensor 'w': data_offsets must be two non-negative integers \[begin, end\], got \[0\]/, 'w');
    refuse(craft({ w: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, f32(1)), /data_offsets must be two non-negative integers/, 'w');
    refuse(craft({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32(1)), /tensor 'w': data_offsets \[4, 0\] end before they begin/, 'w');
  });

  it('offsets out of range', () => {
    refuse(
      craft({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)),
      /tensor 'w': data_offsets \[0, 16\] are out of range: the data section is 8 bytes/,
      'w',
    );
  });

  it('overlapping tensors', () => {
    refuse(
      craft(
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        f32(3),
      ),
      /tensor 'b' data_offsets \[4, 12\] overlap tensor 'a' \[0, 8\]/,
      'b',
    );
  });

  it('a hole between tensors, at the start, or at the end', () => {
    refuse(
      craft(
        { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } },
        f32(3),
      ),
      /tensor 'b' data_offsets \[8, 12\] leave a hole of 4 byte\(s\) after tensor 'a' \(ends at 4\)/,
      'b',
    );
    refuse(craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), /tensor 'a' data_offsets \[4, 8\] leave a hole of 4 byte\(s\) at the start of the data section/, 'a');
    refuse(craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)), /4 byte\(s\) after the last tensor 'a' are not covered by any tensor/);
  });

  it('shape × dtype size that differs from the byte length', () => {
    refuse(
      craft({ w: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /tensor 'w': shape \[2, 3\] × F16 \(2 byte\(s\) each\) needs 12 bytes, but data_offsets \[0, 8\] span 8 bytes/,
      'w',
    );
    // A hostile shape whose element count overflows cannot pass as a small tensor.
    refuse(
      craft({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40, 2 ** 40], data_offsets: [0, 0] } }),
      /tensor 'w': shape \[1099511627776, 1099511627776, 1099511627776\] × F32 .* needs more than 2\^53 bytes/,
      'w',
    );
  });

  it('__metadata__ with a non-string value', () => {
    refuse(craft({ __metadata__: { epochs: 3 } }), /__metadata__\['epochs'\] must be a string, got 3/);
  });

  it('names the default source when none is given', () => {
    expect(() => readSafetensors(new Uint8Array(3))).toThrow(/^safetensors buffer: 3 bytes/);
  });
});

describe('writeSafetensors refuses inconsistent tensors', () => {
  it('data of the wrong array type or length, a bad shape, a reserved name, a non-string metadata value', () => {
    expect(() => writeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(
      /tensor 'w': dtype F32 needs a Float32Array, got Float64Array/,
    );
    expect(() => writeSafetensors({ w: { dtype: 'I32', shape: [2, 2], data: new Int32Array(3) } })).toThrow(
      /tensor 'w': shape \[2, 2\] has 4 element\(s\) but data has 3/,
    );
    expect(() => writeSafetensors({ w: { dtype: 'U8', shape: [-1], data: new Uint8Array(0) } })).toThrow(/shape must be an array of non-negative integers/);
    expect(() => writeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(/'__metadata__' cannot be a tensor name/);
    expect(() => writeSafetensors({ w: { dtype: 'X' as 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(/unknown dtype "X"/);
    expect(() => writeSafetensors({}, { n: 3 as unknown as string })).toThrow(/metadata\['n'\] must be a string, got 3/);
  });
});

describe('float16 and bfloat16 conversions', () => {
  it('decodes F16 normals, subnormals, signed zero, infinities and NaN', () => {
    expect(float16BitsToFloat32(0x3c00)).toBe(1);
    expect(float16BitsToFloat32(0xc000)).toBe(-2);
    expect(float16BitsToFloat32(0x7bff)).toBe(65504);
    expect(float16BitsToFloat32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(float16BitsToFloat32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(float16BitsToFloat32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
    expect(float16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(float16BitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(float16BitsToFloat32(0x7e00)).toBeNaN();
  });

  it('encodes F16 with round-to-nearest-even, overflow to infinity and gradual underflow', () => {
    expect(Array.from(float32ToF16([1, -2, 65504, 65520, 1e9, -Infinity, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11]))).toEqual([
      0x3c00, 0xc000, 0x7bff, 0x7c00, 0x7c00, 0xfc00, 0x0001, 0x0000, 0x0001, 0x3c00, 0x3c02,
    ]);
    expect(float16BitsToFloat32(float32ToF16([Number.NaN])[0]!)).toBeNaN();
  });

  it('every one of the 63,488 finite F16 values survives F16 → float32 → F16', () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    const finite = bits.filter((b) => (b & 0x7c00) !== 0x7c00);
    const decoded = tensorToFloat32({ dtype: 'F16', shape: [finite.length], data: finite });
    expect(float32ToF16(decoded)).toEqual(finite);
  });

  it('encodes and decodes BF16 (the top 16 bits, rounded to nearest even)', () => {
    expect(Array.from(float32ToBF16([1, -2, 1 + 2 ** -8, 1 + 3 * 2 ** -8, Infinity]))).toEqual([0x3f80, 0xc000, 0x3f80, 0x3f82, 0x7f80]);
    const back = tensorToFloat32({ dtype: 'BF16', shape: [3], data: float32ToBF16([0.15625, -3, Number.NaN]) });
    expect(back[0]).toBe(0.15625);
    expect(back[1]).toBe(-3);
    expect(back[2]).toBeNaN();
  });

  it('tensorToFloat32 converts every dtype', () => {
    expect(Array.from(tensorToFloat32(oneOfEach.i64!))).toEqual([-(2 ** 63), 2 ** 63]);
    expect(Array.from(tensorToFloat32(oneOfEach.i8!))).toEqual([-128, 1, 127]);
    expect(Array.from(tensorToFloat32(oneOfEach.bool!))).toEqual([1, 0, 1]);
    expect(Array.from(tensorToFloat32(oneOfEach.f64!))).toEqual([Math.fround(Math.PI), -Infinity, 0]);
    expect(tensorToFloat32(oneOfEach.f32!)).toBe(oneOfEach.f32!.data);
  });
});
