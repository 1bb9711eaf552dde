import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ImageDecodeError, MAX_IMAGE_PIXELS, decodeImage, readImageSize, toRgbImage } from '../src/index';

function ramp(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7) % 256;
  return rgb;
}

function encodePng(rgb: Uint8Array, width: number, height: number, alpha = 255): Uint8Array {
  const png = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) {
    png.data[p * 4] = rgb[p * 3] as number;
    png.data[p * 4 + 1] = rgb[p * 3 + 1] as number;
    png.data[p * 4 + 2] = rgb[p * 3 + 2] as number;
    png.data[p * 4 + 3] = alpha;
  }
  return new Uint8Array(PNG.sync.write(png));
}

function encodeJpeg(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
  return new Uint8Array(jpeg.encode({ data: rgba, width, height }, 95).data);
}

describe('decodeImage', () => {
  it('decodes a PNG exactly (alpha dropped) and a JPEG closely to RGB', () => {
    const rgb = ramp(12, 8);
    const png = decodeImage(encodePng(rgb, 12, 8, 10), 'a.png');
    expect([png.width, png.height]).toEqual([12, 8]);
    expect(png.data).toEqual(rgb);
    const jpg = decodeImage(encodeJpeg(rgb, 12, 8), 'a.jpg');
    expect([jpg.width, jpg.height, jpg.data.length]).toEqual([12, 8, 12 * 8 * 3]);
  });

  it('names the file and says what was expected', () => {
    const notImage = () => decodeImage(new TextEncoder().encode('hello'), 'notes.txt');
    expect(notImage).toThrow(ImageDecodeError);
    expect(notImage).toThrow('notes.txt: not a JPEG or PNG image (expected the signature FF D8 FF or 89 50 4E 47); its first bytes are 68 65 6c 6c');
    expect(() => decodeImage(new Uint8Array(0), 'empty.png')).toThrow('its first bytes are none: the file is empty');
    const jpg = encodeJpeg(ramp(32, 32), 32, 32);
    expect(() => decodeImage(jpg.subarray(0, 200), 'cut.jpg')).toThrow(/^cut\.jpg: corrupt or unsupported JPEG \(.+\)$/);
    expect(() => decodeImage(encodePng(ramp(4, 4), 4, 4).subarray(0, 40), 'cut.png')).toThrow(/^cut\.png: corrupt PNG \(.+\)$/);
    try {
      decodeImage(jpg.subarray(0, 200), 'cut.jpg');
    } catch (error) {
      expect(error).toMatchObject({ file: 'cut.jpg', field: 'pixels', reason: expect.stringMatching(/^corrupt or unsupported JPEG/) });
    }
  });

  it('refuses an image over the pixel limit from its header, before decoding', () => {
    const small = encodeJpeg(ramp(16, 16), 16, 16);
    expect(readImageSize(small)).toEqual({ format: 'jpeg', width: 16, height: 16 });
    expect(MAX_IMAGE_PIXELS).toBe(40_000_000);
    expect(() => decodeImage(small, 'small.jpg', { maxPixels: 100 })).toThrow('small.jpg: 16×16 pixels (0.0 MP) is over the 0.0 MP limit; scale the image down first');
  });
});

describe('toRgbImage', () => {
  it('passes RGB through and drops alpha from RGBA pixels and ImageData-like objects', () => {
    const rgb = { data: ramp(3, 2), width: 3, height: 2 };
    expect(toRgbImage(rgb)).toEqual(rgb);
    expect(toRgbImage(rgb).data).toBe(rgb.data); // no copy
    const rgba = new Uint8ClampedArray(3 * 2 * 4);
    for (let p = 0; p < 6; p++) rgba.set([...rgb.data.subarray(p * 3, p * 3 + 3), 128], p * 4);
    const out = toRgbImage({ data: rgba, width: 3, height: 2 });
    expect(out.data).toEqual(rgb.data);
    expect(out.data).toBeInstanceOf(Uint8Array);
  });

  it('says what it expected for anything else', () => {
    expect(() => toRgbImage({ data: new Uint8Array(5), width: 3, height: 2 }, 'cat')).toThrow(
      'cat: 5 bytes do not fill 3×2 pixels; expected 18 (RGB) or 24 (RGBA)',
    );
    expect(() => toRgbImage('cat.jpg' as never)).toThrow(/^image: expected an RgbImage, ImageData or \{ data, width, height \} pixels, .* got a string$/);
    // Node has no canvas: a drawable source is refused with the way out
    expect(() => toRgbImage({ width: 4, height: 4 } as never)).toThrow(/image: drawing it needs a canvas .* in Node decode the file with decodeImage/);
  });
});
