// Two-domain datasets as one array: each row holds an A image's channels, then a B image's
// ([n, cA + cB, h, w]), the batch layout the image-to-image trainers split (nets/pix2pix.ts,
// nets/cyclegan.ts, nets/dualgan.ts, nets/discogan.ts). Aligned pairs keep image i with image i;
// unpaired domains are cycled to the longer one's length (the losses never pair row i of A with
// row i of B, so the packing does not make training paired). Browser-safe: no Node imports.

/**
 * Aligned pairs (e.g. loadEmojiPairs' a and b, each n x c x h x w) as one array of
 * n x (ca + cb) x h x w: image i's A channels, then its B channels.
 */
export function packPairs(a: Float32Array, b: Float32Array, n: number, ca: number, cb: number, h: number, w: number): Float32Array {
  const plane = h * w;
  if (a.length !== n * ca * plane || b.length !== n * cb * plane) {
    throw new Error(`packPairs: expected ${n} x ${ca} and ${n} x ${cb} images of ${h}x${w}, got ${a.length} and ${b.length} values`);
  }
  const out = new Float32Array(n * (ca + cb) * plane);
  for (let i = 0; i < n; i++) {
    out.set(a.subarray(i * ca * plane, (i + 1) * ca * plane), i * (ca + cb) * plane);
    out.set(b.subarray(i * cb * plane, (i + 1) * cb * plane), (i * (ca + cb) + ca) * plane);
  }
  return out;
}

/**
 * Unpaired domains (e.g. loadEmojiUnpaired's a: nA images, b: nB images) as rows of one array:
 * max(nA, nB) rows, row i holding A image i mod nA and B image i mod nB, channels A then B.
 */
export function packUnpaired(a: Float32Array, nA: number, b: Float32Array, nB: number, c: number, h: number, w: number): Float32Array {
  const img = c * h * w;
  if (a.length !== nA * img || b.length !== nB * img || nA === 0 || nB === 0) {
    throw new Error(`packUnpaired: expected ${nA} and ${nB} (> 0) images of ${c}x${h}x${w}, got ${a.length} and ${b.length} values`);
  }
  const n = Math.max(nA, nB);
  const out = new Float32Array(n * 2 * img);
  for (let i = 0; i < n; i++) {
    const ia = i % nA;
    const ib = i % nB;
    out.set(a.subarray(ia * img, (ia + 1) * img), 2 * i * img);
    out.set(b.subarray(ib * img, (ib + 1) * img), (2 * i + 1) * img);
  }
  return out;
}
