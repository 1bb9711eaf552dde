import { describe, expect, it } from 'vitest';
import { DataError, decodeImage, resizeBilinearU8, sniffImageFormat } from '../src/index';
import { encodeJpeg, encodePng, gradientImage } from './helpers';

describe('image decoding', () => {
  it('decodes a PNG exactly and a JPEG closely to the encoded RGB', () => {
    const rgb = gradientImage(32, 32, 3);
    const png = decodeImage(encodePng(rgb, 32, 32), 'a.png');
    expect(png.width).toBe(32);
    expect(png.height).toBe(32);
    expect(png.data).toEqual(rgb);
    const jpg = decodeImage(encodeJpeg(rgb, 32, 32), 'a.jpg');
    let maxDiff = 0;
    for (let i = 0; i < rgb.length; i++) maxDiff = Math.max(maxDiff, Math.abs(jpg.data[i]! - rgb[i]!));
    expect(maxDiff).toBeLessThan(20);
  });

  it('names the file when bytes are not an image or a JPEG is truncated', () => {
    expect(() => decodeImage(new TextEncoder().encode('hello'), 'cat/0001.jpg')).toThrowError(/cat\/0001\.jpg: not a JPEG or PNG image \(expected the signature FF D8 FF or 89 50 4E 47\); its first bytes are 68 65 6c 6c/);
    const jpg = encodeJpeg(gradientImage(32, 32), 32, 32);
    expect(() => decodeImage(jpg.subarray(0, 200), 'cat/0002.jpg')).toThrowError(DataError);
    expect(() => decodeImage(jpg.subarray(0, 200), 'cat/0002.jpg')).toThrowError(/cat\/0002\.jpg: corrupt or unsupported JPEG/);
    const png = encodePng(gradientImage(8, 8), 8, 8);
    expect(() => decodeImage(png.subarray(0, 40), 'dog/1.png')).toThrowError(/dog\/1\.png: corrupt PNG/);
  });

  it('sniffs formats from the first bytes', () => {
    expect(sniffImageFormat(encodePng(gradientImage(2, 2), 2, 2))).toBe('png');
    expect(sniffImageFormat(encodeJpeg(gradientImage(8, 8), 8, 8))).toBe('jpeg');
    expect(sniffImageFormat(new Uint8Array([1, 2, 3]))).toBeNull();
  });

  it('resizes bilinearly with half-pixel centres: a 2× downscale averages 2×2 blocks', () => {
    const src = new Uint8Array(4 * 4 * 3);
    for (let p = 0; p < 16; p++) src.fill(p * 10, p * 3, p * 3 + 3);
    const out = resizeBilinearU8(src, 4, 4, 2, 2);
    // output (0,0) samples source (0.5, 0.5): mean of pixels 0, 1, 4, 5 → (0+10+40+50)/4 = 25
    expect(out[0]).toBe(25);
    expect(out[3 * 3]).toBe(Math.round((100 + 110 + 140 + 150) / 4));
    expect(resizeBilinearU8(src, 4, 4, 4, 4)).toEqual(src);
  });
});
