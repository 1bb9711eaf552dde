export { ImageDecodeError, type ImageSource, type RgbImage, type RgbaPixels } from './types';
export {
  MAX_IMAGE_PIXELS,
  checkImageSize,
  decodeImage,
  readImageSize,
  rgbaToRgb,
  sniffImageFormat,
  type DecodeImageOptions,
} from './decode';
export { toRgbImage } from './convert';
