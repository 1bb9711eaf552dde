import { describe, expect, it } from 'vitest';
import { DataError, MAX_IMAGE_PIXELS, decodeImage, readImageSize, shrinkToFitU8 } from '../src/index';
import { encodeJpeg, encodePng, gradientImage } from './helpers';

/** A PNG whose IHDR claims `width × height` (the pixel data is never reached). */
function pngHeader(width: number, height: number): Uint8Array {
  const bytes = encodePng(gradientImage(2, 2), 2, 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}

describe('image size from the header', () => {
  it('reads width and height of PNGs and JPEGs without decoding', () => {
    expect(readImageSize(encodePng(gradientImage(24, 40), 24, 40))).toEqual({ format: 'png', width: 40, height: 24 });
    expect(readImageSize(encodeJpeg(gradientImage(16, 48), 16, 48))).toEqual({ format: 'jpeg', width: 48, height: 16 });
    expect(readImageSize(new Uint8Array([1, 2, 3]))).toBeNull();
  });

  it('refuses a PNG over the pixel cap from its header, as it does a JPEG', () => {
    expect(MAX_IMAGE_PIXELS).toBe(40_000_000);
    const huge = pngHeader(10_000, 10_000);
    expect(() => decodeImage(huge, 'big.png')).toThrowError(DataError);
    expect(() => decodeImage(huge, 'big.png')).toThrowError(/big\.png: 10000×10000 pixels \(100\.0 MP\) is over the 40\.0 MP limit/);
    const jpeg = encodeJpeg(gradientImage(16, 16), 16, 16);
    expect(() => decodeImage(jpeg, 'small.jpg', 100)).toThrowError(/small\.jpg: 16×16 pixels \(0\.0 MP\) is over the 0\.0 MP limit/);
  });

  it('shrinks by area averaging to fit a side, keeping the aspect ratio', () => {
    // 4×2 image: left half 0, right half 200 → 2×1 keeps the halves apart
    const src = new Uint8Array(4 * 2 * 3);
    for (let y = 0; y < 2; y++) for (let x = 2; x < 4; x++) src.fill(200, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
    const out = shrinkToFitU8(src, 2, 4, 2);
    expect([out.width, out.height]).toEqual([2, 1]);
    expect(Array.from(out.data)).toEqual([0, 0, 0, 200, 200, 200]);
    // 3 → 2 columns: the middle column is shared half and half
    const row = Uint8Array.from([0, 0, 0, 90, 90, 90, 180, 180, 180]);
    expect(Array.from(shrinkToFitU8(row, 1, 3, 2).data)).toEqual([30, 30, 30, 150, 150, 150]);
    expect(shrinkToFitU8(src, 2, 4, 8).data).toBe(src);
  });
});
