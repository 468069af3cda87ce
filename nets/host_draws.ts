// Host-side draws of the trainers that pick their own batches (StackGAN, StackGAN++, Triple-GAN):
// uniform integers from a run's Philox stream, or, when the generator is fed (step goldens, see
// Generator.feed), the fed integers, so a PyTorch transcription can give the engine the very same
// batch indices. Browser-safe.

import { mulhilo32, philoxWords, type Generator } from '../engine/ops/random.js';

/** n integers uniform in [0, high) from the generator's stream (one Philox word each), or the next fed draw. */
export function hostRandint(n: number, high: number, rng: Generator): Int32Array {
  const fed = rng.takeFed('randint', [n]);
  if (fed) {
    const out = Int32Array.from(fed);
    for (const v of out) if (!(v >= 0 && v < high)) throw new Error(`hostRandint: the fed draw holds ${v}, outside [0, ${high})`);
    return out;
  }
  const words = philoxWords(n, rng.seed, rng.reserve(Math.ceil(n / 4)));
  return Int32Array.from(words, (w) => mulhilo32(w, high)[0]);
}
