import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, tensorToFloat32 } from '@vitlens/core';
import { afterAll, describe, expect, it } from 'vitest';

// The hf-written fixture's golden.safetensors comes from the golden.json that hf_roundtrip.py writes
// (transformers is not needed here): rebuild golden.json's content from the committed file, run the
// committed conversion script on it, and get the committed bytes back.
const fixture = fileURLToPath(new URL('./fixtures/hf-written/golden.safetensors', import.meta.url));
const script = fileURLToPath(new URL('../scripts/hf-golden-to-safetensors.mjs', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vitlens-hf-golden-'));

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the hf-written golden fixture', () => {
  it('is rebuilt byte for byte from golden.json by scripts/hf-golden-to-safetensors.mjs', () => {
    const committed = new Uint8Array(fs.readFileSync(fixture));
    const { tensors, metadata } = readSafetensors(committed, { source: fixture });
    const values = (name: string) => Array.from(tensorToFloat32(tensors.get(name)!));
    // golden.json as hf_roundtrip.py writes it: float32 values as JSON numbers, flat, with shapes.
    const golden = {
      transformers: metadata.transformers,
      inputsNCHW: values('pixel_values_nchw'),
      inputShapeNCHW: tensors.get('pixel_values_nchw')!.shape,
      logits: values('logits'),
      logitsShape: tensors.get('logits')!.shape,
      attentions: [values('attentions.0'), values('attentions.1')],
      attentionShape: tensors.get('attentions.0')!.shape,
    };
    expect([...tensors.keys()].sort()).toEqual(['attentions.0', 'attentions.1', 'logits', 'pixel_values_nchw']);
    expect(golden.inputShapeNCHW).toEqual([2, 3, 24, 24]);
    fs.writeFileSync(path.join(tmp, 'golden.json'), JSON.stringify(golden));
    execFileSync(process.execPath, [script, path.join(tmp, 'golden.json')], { stdio: 'pipe' });
    const rebuilt = new Uint8Array(fs.readFileSync(path.join(tmp, 'golden.safetensors')));
    expect(rebuilt.length).toBe(committed.length);
    expect(Buffer.from(rebuilt).equals(Buffer.from(committed))).toBe(true);
  });

  it('the script names what is wrong with a golden.json that does not fit', () => {
    fs.writeFileSync(path.join(tmp, 'bad.json'), JSON.stringify({ transformers: '5.17.0', inputsNCHW: [1, 2, 3], inputShapeNCHW: [2, 3, 24, 24] }));
    expect(() => execFileSync(process.execPath, [script, path.join(tmp, 'bad.json')], { stdio: 'pipe', encoding: 'utf8' })).toThrow(
      /'inputsNCHW' has 3 values, shape \[2, 3, 24, 24\] needs 3456/,
    );
  });
});
