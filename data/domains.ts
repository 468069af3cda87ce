// Images with one domain label each, packed as rows of a multi-domain translator's input layout
// (browser-safe, no Node imports): row i holds image i's c channels, then one constant plane per
// domain, plane labels[i] all ones and the others zeros. The labels thus travel with the images
// through the CLI's one-tensor training loop and its data loader (emoji-skin's training rows, the
// held-out rows of `gan eval` / `gan sample` with the *target* label in the planes, the demos'
// exported test rows). A model reads a row's label from pixel (0, 0) of the planes.

/** Rows [n, c + numDomains, h, w] of images [n, c, h, w] and their domain labels (each in 0 .. numDomains - 1). */
export function packDomains(
  images: Float32Array,
  labels: ArrayLike<number>,
  n: number,
  numDomains: number,
  c: number,
  h: number,
  w: number,
): Float32Array {
  const img = c * h * w;
  const plane = h * w;
  if (images.length !== n * img || labels.length < n) {
    throw new Error(
      `packDomains: expected ${n} images of ${c}x${h}x${w} (${n * img} values) and ${n} labels, got ${images.length} values and ${labels.length} labels`,
    );
  }
  const row = img + numDomains * plane;
  const out = new Float32Array(n * row);
  for (let i = 0; i < n; i++) {
    const d = labels[i];
    if (!Number.isInteger(d) || d < 0 || d >= numDomains)
      throw new Error(`packDomains: label ${d} of image ${i} is not a domain in 0..${numDomains - 1}`);
    out.set(images.subarray(i * img, (i + 1) * img), i * row);
    out.fill(1, i * row + img + d * plane, i * row + img + (d + 1) * plane);
  }
  return out;
}

// ---- held-out domain sets ------------------------------------------------------------------------------

/**
 * Images of subjects drawn in every domain (emoji in each skin tone: data/emoji.ts loadEmojiSkinTones
 * has this shape), so every translation has its ground truth.
 */
export interface DomainSet {
  /** n x 3 x h x w in [-1, 1]. */
  images: Float32Array;
  n: number;
  h: number;
  w: number;
  numDomains: number;
  domainNames: readonly string[];
  /** Domain label of each image. */
  domain: ArrayLike<number>;
  /** n x numDomains: counterpart[i * numDomains + d] is the index of image i's subject in domain d. */
  counterpart: ArrayLike<number>;
}

/** Images `indices` of a set (rows of 3 x h x w) gathered into one array. */
export function gatherImages(s: Pick<DomainSet, 'images' | 'h' | 'w'>, indices: readonly number[]): Float32Array {
  const img = 3 * s.h * s.w;
  const out = new Float32Array(indices.length * img);
  indices.forEach((i, k) => out.set(s.images.subarray(i * img, (i + 1) * img), k * img));
  return out;
}
