// Config checks several models share, as messages naming the flag (a recipe's validate() returns them).

import type { ModelConfig } from '../registry.js';
import { flagName } from './model.js';

/**
 * The DCGAN-shaped networks' image side: a power of two from 8 to 256 (a 4x4 core and one to six
 * stride-2 levels). Empty when it is one.
 */
export function imageSizeErrors(size: number | string | boolean | undefined): string[] {
  const k = Math.log2(Number(size)) - 2;
  return Number.isInteger(k) && k >= 1 && k <= 6 ? [] : [`--image-size must be a power of two from 8 to 256, got ${size}`];
}

/**
 * The image side (as imageSizeErrors) and integer widths in [1, 4096] of a config that is not
 * declared with defineModel (whose int() bounds check the widths).
 */
export function checkSizeAndWidths(c: ModelConfig, keys: readonly string[]): string[] {
  const errs = imageSizeErrors(c.imageSize);
  for (const key of keys) {
    const v = Number(c[key]);
    if (!Number.isInteger(v) || v < 1 || v > 4096) errs.push(`${flagName(key)} must be an integer in [1, 4096], got ${c[key]}`);
  }
  return errs;
}
