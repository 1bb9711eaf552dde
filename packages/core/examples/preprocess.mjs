// uint8 HWC pixels → normalised float32 model input, as Hugging Face's ViTImageProcessor does.
import { HF_VIT_MEAN, HF_VIT_STD, initBackend, pixelsToTensor } from '@vitlens/core';

await initBackend({ prefer: 'cpu' });
const pixels = new Uint8Array([0, 64, 128, 255, 255, 255, 32, 32, 32, 200, 100, 50]); // one 2×2 RGB image
const x = pixelsToTensor(pixels, [1, 2, 2, 3], {
  resize: { height: 4, width: 4 },
  rescaleFactor: 1 / 255,
  mean: HF_VIT_MEAN,
  std: HF_VIT_STD,
});
console.log(x.shape); // [ 1, 4, 4, 3 ]
console.log(Array.from(x.dataSync().slice(0, 3), (v) => v.toFixed(3))); // [ '-1.000', '-0.498', '0.004' ]
x.dispose();
