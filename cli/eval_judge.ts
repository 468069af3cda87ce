// What `gan eval` scores a generator with (cli/eval.ts evalGenerator): a FeatureJudge pairs a
// feature network with real images' features and draws the generated side; the LeNet judge
// (cli/eval.ts) serves MNIST generators, the emoji-net judge (cli/eval_emoji.ts) emoji generators.

import type { Tensor } from '../engine/tensor.js';
import type { Generator } from '../engine/ops/random.js';
import type { FeatureSet } from '../metrics/frechet.js';
import type { GanTrainer } from '../nets/registry.js';

/** Renders a trainer's images for latent codes: generate(), or one stage of StackGAN. */
export type Render = (t: GanTrainer, z: Tensor) => Tensor;

/** Features of a generator's images, and scores of the same images (e.g. conditional accuracy). */
export interface GeneratedFeatures {
  features: FeatureSet;
  extra?: Record<string, number>;
}

/**
 * What evalGenerator scores generated images against: a feature network with the features of real
 * images at the evaluated geometry (the test split; training images for the floor of the scale),
 * and how the generated side is drawn (noise, or captions for a text model). The LeNet judge serves
 * MNIST generators (below), the emoji-net judge (cli/eval_emoji.ts) emoji generators.
 */
export interface FeatureJudge {
  /** What the features are ('LeNet features'). */
  features: string;
  /** What the real side is ('MNIST test images'). */
  realName: string;
  /** Images per side. */
  n: number;
  realTest: FeatureSet;
  realTrain: FeatureSet;
  generated(t: GanTrainer, render: Render): Promise<GeneratedFeatures>;
  /** Goes into the report as is (the feature network's file, recipe, accuracy). */
  info: Record<string, unknown>;
  /** Lines after the table and report entries from the extra scores of the trained and untrained model. */
  summary?(trained: Record<string, number>, untrained: Record<string, number>): { lines: string[]; json: Record<string, unknown> };
}

/** A draw(count) for drawnFeatureSet: `count` images rendered from t's noise, taken from `g`. */
export function noiseDraws(t: GanTrainer, render: Render, g: Generator): (count: number) => Tensor {
  return (m) => {
    const z = t.noise(m, g);
    try {
      return render(t, z);
    } finally {
      z.dispose();
    }
  };
}
