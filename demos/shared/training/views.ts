// The training page's sample views: what its samples canvas shows of the current networks.
//   - NoiseGrid: the generator's images of the session's fixed latent codes (or the trainer's own
//     sample layout), in a grid of the model's columns (its `demo` hook's gridCols) or square;
//   - PairGrid: for image-to-image models, held-out input | output | target rows, A -> B through
//     the recipe's heldOutPairs/translate hooks (as `gan eval` scores it) and B -> A for the
//     two-generator models, recording held-out L1 and PSNR into the charts at each redraw.

import { l1Cpu, psnrCpu } from '../../../metrics/image.js';
import { SampleInputs } from '../../../nets/lib/sample.js';
import {
  heldOutEmojiPairs,
  splitHeldOut,
  translationGrid,
  translationHooks,
  firstPairs,
  type HeldOutPairs,
} from '../../../nets/lib/translation.js';
import type { StatsCharts } from '../charts.js';
import { drawGrid } from '../grid.js';
import { recipeOf, type RunDefaults } from '../models.js';
import type { TrainingSession } from '../session.js';

export interface SampleView {
  draw(s: TrainingSession): Promise<void>;
}

/** The generator's images of fixed latent codes (or the trainer's own sample layout). */
export class NoiseGrid implements SampleView {
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly cols: number | undefined,
  ) {}

  async draw(s: TrainingSession): Promise<void> {
    const { data, shape } = await s.samples();
    drawGrid(this.canvas, data, shape, { nrow: this.cols ?? Math.ceil(Math.sqrt(shape[0])) });
  }
}

/**
 * Held-out input | output | target rows of an image-to-image model, A -> B through the recipe's own
 * heldOutPairs/translate hooks (as `gan eval` scores it), and B -> A for the two-generator models;
 * records held-out L1 and PSNR at each redraw.
 */
export class PairGrid implements SampleView {
  direction: 'AtoB' | 'BtoA' = 'AtoB';
  private readonly pairs = new Map<string, HeldOutPairs>();

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly run: RunDefaults,
    private readonly count: number,
    private readonly charts: () => StatsCharts,
  ) {}

  private async pairsFor(direction: 'AtoB' | 'BtoA'): Promise<HeldOutPairs> {
    let p = this.pairs.get(direction);
    if (!p) {
      if (direction === 'AtoB') {
        p = await translationHooks(recipeOf(this.run.model))!.heldOutPairs(this.run.config, {
          limit: this.count,
          dataset: this.run.dataset,
        });
      } else {
        p = splitHeldOut(
          await heldOutEmojiPairs({ dataset: this.run.dataset, size: Number(this.run.config.imageSize), limit: this.count }),
          true,
        );
      }
      p = firstPairs(p, this.count);
      this.pairs.set(direction, p);
    }
    return p;
  }

  async draw(s: TrainingSession): Promise<void> {
    const p = await this.pairsFor(this.direction);
    const out = await s.translate(p.inputs, [p.n, ...p.inputShape], this.direction);
    const [, h, w] = p.targetShape;
    const shape = { n: p.n, c: p.targetShape[0], h, w };
    const suffix = this.direction === 'AtoB' ? '' : '_BtoA';
    this.charts().record(s.step, {
      [`heldout_L1${suffix}`]: l1Cpu(out.data, p.targets, shape).mean,
      [`heldout_PSNR${suffix}`]: psnrCpu(out.data, p.targets, shape).mean,
    });
    const cols = Math.min(8, p.n);
    const g = translationGrid(
      p.inputs,
      out.data,
      p.targets,
      p.n,
      { input: p.inputShape[0], output: out.shape[1], target: p.targetShape[0] },
      h,
      w,
      cols,
    );
    drawGrid(this.canvas, g.images, [g.n, 3, h, w], { nrow: cols });
  }
}

/** Models whose noise() hands out sample inputs (images) rather than latent codes: no latent space. */
export function hasLatentCodes(s: TrainingSession): boolean {
  return !((s.trainer as unknown as { samples?: unknown }).samples instanceof SampleInputs);
}
