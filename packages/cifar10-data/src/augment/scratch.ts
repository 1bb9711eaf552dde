// Augmentations are synchronous and run one at a time, so one reusable buffer avoids allocating
// per image in the hot loop (allocation churn is expensive on these VMs).
let buffer = new Uint8Array(0);

/** A copy of `img` in a shared scratch buffer, valid until the next call. */
export function scratchCopy(img: Uint8Array): Uint8Array {
  if (buffer.length < img.length) buffer = new Uint8Array(img.length);
  const copy = buffer.subarray(0, img.length);
  copy.set(img);
  return copy;
}

export function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
