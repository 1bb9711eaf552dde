import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { float32ToBF16, float32ToF16, readSafetensors, type SafetensorsTensor, tensorToFloat32, writeSafetensors } from '../src/index';

// Written by fixtures/make_safetensors_fixture.py: PyTorch 1.13 produced every tensor's bytes
// (including its float32 → float16/bfloat16 rounding), laid out by the reference writer's rules.
const fixture = new Uint8Array(readFileSync(new URL('./fixtures/tiny.safetensors', import.meta.url)));
interface Expected {
  metadata: Record<string, string>;
  order: string[];
  tensors: Record<string, { dtype: string; shape: number[]; float32_bits: number[]; source_float32_bits?: number[]; int_values?: string[] }>;
}
const expected = JSON.parse(readFileSync(new URL('./fixtures/tiny.expected.json', import.meta.url), 'utf8')) as Expected;
const bitsOf = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
const fromBits = (bits: number[]) => new Float32Array(new Uint32Array(bits).buffer);

describe('safetensors against a file laid out like the reference writer, with PyTorch tensors', () => {
  const { tensors, metadata } = readSafetensors(fixture, { source: 'tiny.safetensors' });

  it('reads every tensor with its dtype and shape, in file order, and the metadata', () => {
    expect([...tensors.keys()]).toEqual(expected.order);
    expect(metadata).toEqual(expected.metadata);
    for (const [name, e] of Object.entries(expected.tensors)) {
      expect(tensors.get(name)).toMatchObject({ dtype: e.dtype, shape: e.shape });
    }
  });

  it('decodes every tensor to the same float32 values PyTorch reads (F16 incl. subnormals and inf, BF16, F64)', () => {
    for (const [name, e] of Object.entries(expected.tensors)) {
      expect(bitsOf(tensorToFloat32(tensors.get(name)!)), name).toEqual(e.float32_bits);
    }
  });

  it('reads integer tensors exactly, I64 included', () => {
    for (const [name, e] of Object.entries(expected.tensors)) {
      if (!e.int_values) continue;
      const data = tensors.get(name)!.data as ArrayLike<number | bigint>;
      expect(Array.from(data, (v) => String(v)), name).toEqual(e.int_values);
    }
  });

  it('rounds float32 to F16 and BF16 exactly as PyTorch does', () => {
    const half = expected.tensors['blocks.0.half']!;
    const brain = expected.tensors['blocks.0.brain']!;
    expect(float32ToF16(fromBits(half.source_float32_bits!))).toEqual(tensors.get('blocks.0.half')!.data);
    expect(float32ToBF16(fromBits(brain.source_float32_bits!))).toEqual(tensors.get('blocks.0.brain')!.data);
  });

  it('writes the same bytes, whatever order the tensors are given in', () => {
    const shuffled = new Map<string, SafetensorsTensor>([...tensors.entries()].reverse());
    expect(writeSafetensors(shuffled, metadata)).toEqual(fixture);
  });
});
