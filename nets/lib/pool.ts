// The image pool CycleGAN (and the papers built on it) trains its discriminators on: a history of
// generated images (Shrivastava et al. 2017), drawn with a seeded host generator so a resumed run
// picks the same images; ImagePoolState carries a pool into checkpoints (exact resume).

import { Mulberry32, Tensor, assign, empty, engine, fmtShape, tensor, tidy, ops, nn } from '../../engine/index.js';

/**
 * A buffer of previously generated images (CycleGAN trains D on it to damp oscillation). query()
 * takes a batch of generated images and returns a batch of the same shape: while the pool is not
 * full each image is stored and returned as is; afterwards each image, with probability 1/2,
 * replaces a random stored one, which is returned in its place (otherwise it is returned itself).
 * The returned batch is detached. Pool images are kept GPU tensors; call dispose() when done.
 */
export class ImagePool {
  private readonly images: Tensor[] = [];
  /** The coin flips: the engine's host mulberry32, whose u32 state checkpoints hold. */
  private readonly rng: Mulberry32;

  constructor(
    readonly poolSize: number,
    seed = 0,
  ) {
    if (!Number.isInteger(poolSize) || poolSize < 0) throw new Error(`ImagePool: poolSize must be a non-negative integer, got ${poolSize}`);
    this.rng = new Mulberry32(seed);
  }

  get size(): number {
    return this.images.length;
  }

  query(batch: Tensor): Tensor {
    if (this.poolSize === 0) return batch.detach();
    engine().notReplayable('ImagePool.query: the picks are drawn on the host (--pool-size 0 replays)');
    const retired: Tensor[] = [];
    const out = tidy(() => {
      const chosen: Tensor[] = [];
      for (let i = 0; i < batch.shape[0]; i++) {
        const image = batch.detach().narrow(0, i, 1);
        if (this.images.length < this.poolSize) {
          this.images.push(image.keep());
          chosen.push(image);
        } else if (this.rng.next() > 0.5) {
          const j = Math.floor(this.rng.next() * this.poolSize);
          chosen.push(this.images[j]);
          retired.push(this.images[j]);
          this.images[j] = image.keep();
        } else {
          chosen.push(image);
        }
      }
      return ops.concat(chosen, 0);
    });
    // The copies into `out` are encoded already, so the swapped-out images can go back to the pool.
    for (const t of retired) t.dispose();
    return out;
  }

  /** The coin-flip generator's state (for checkpoints, with `stored`: ImagePoolState below). */
  getState(): { rng: number } {
    return { rng: this.rng.state };
  }

  setState(s: { rng: number }): void {
    this.rng.state = s.rng >>> 0;
  }

  /** The stored images in slot order ([1, C, H, W] each; the pool's live tensors: read, do not dispose). */
  get stored(): readonly Tensor[] {
    return this.images;
  }

  /** Replaces the stored images (the pool takes ownership; at most poolSize) and the coin-flip state: a resume. */
  load(images: readonly Tensor[], s: { rng: number }): void {
    if (images.length > this.poolSize) throw new Error(`ImagePool.load: ${images.length} images for a pool of ${this.poolSize}`);
    for (const t of this.images) t.dispose();
    this.images.length = 0;
    for (const t of images) this.images.push(t.keep());
    this.setState(s);
  }

  dispose(): void {
    for (const t of this.images) t.dispose();
    this.images.length = 0;
  }
}

/**
 * An ImagePool as checkpoint state, so a resumed run draws its discriminators' fakes from the same
 * history as an uninterrupted one. A Module only as a carrier for the checkpoint format: its state
 * dict is the stored images, `images.0` ... `images.{k-1}` ([1, C, H, W] each, k = how many are
 * stored, which grows to poolSize), and the coin-flip state, `rng` (int32 [1]: the u32 state's
 * bits). Not a network: no parameters; `gan convert` and `gan sample` skip it (GanTrainer.trainingState).
 */
export class ImagePoolState extends nn.Module {
  private readonly rngState: Tensor;

  constructor(
    readonly pool: ImagePool,
    readonly imageShape: readonly [number, number, number],
  ) {
    super();
    this.rngState = tensor([0], [1], 'int32').keep();
  }

  override extraRepr(): string {
    return `pool_size=${this.pool.poolSize}, stored=${this.pool.size}, image=[1, ${this.imageShape.join(', ')}]`;
  }

  /** The live pool images plus `rng` (uploaded now, so read the dict before the next query()). */
  override stateDict(prefix = ''): Map<string, Tensor> {
    assign(this.rngState, [this.pool.getState().rng | 0]);
    const out = new Map<string, Tensor>();
    this.pool.stored.forEach((t, i) => out.set(`${prefix}images.${i}`, t));
    out.set(`${prefix}rng`, this.rngState);
    return out;
  }

  override validateStateDict(dict: nn.StateDictLike, opts: { strict?: boolean } = {}): nn.LoadStateDictResult & { problems: string[] } {
    const entries = new Map(nn.stateEntries(dict));
    const problems: string[] = [];
    const unexpectedKeys = [...entries.keys()].filter((k) => k !== 'rng' && !/^images\.(0|[1-9]\d*)$/.test(k));
    const missingKeys: string[] = [];
    const rng = entries.get('rng');
    if (!rng) missingKeys.push('rng');
    else if (nn.stateShape(rng).length !== 1 || nn.stateShape(rng)[0] !== 1 || nn.stateKind(rng) !== 'int32') {
      problems.push(`rng: expected an integer tensor of shape [1], got ${nn.stateKind(rng)} ${fmtShape(nn.stateShape(rng))}`);
    } else if (rng instanceof Tensor) problems.push('rng: a pool state loads from checkpoint data, not from a GPU tensor');
    const k = [...entries.keys()].filter((key) => key.startsWith('images.')).length;
    if (k > this.pool.poolSize)
      problems.push(`${k} pool images for a pool of ${this.pool.poolSize} (--pool-size differs from the checkpoint's?)`);
    const want = [1, ...this.imageShape];
    for (let i = 0; i < k; i++) {
      const v = entries.get(`images.${i}`);
      if (!v) missingKeys.push(`images.${i}`);
      else if (nn.stateKind(v) !== 'float32' || nn.stateShape(v).length !== 4 || nn.stateShape(v).some((d, j) => d !== want[j])) {
        problems.push(`images.${i}: expected a float tensor ${fmtShape(want)}, got ${nn.stateKind(v)} ${fmtShape(nn.stateShape(v))}`);
      }
    }
    if (missingKeys.length) problems.push(`Missing key(s) in pool state: ${missingKeys.map((m) => `"${m}"`).join(', ')}.`);
    if ((opts.strict ?? true) && unexpectedKeys.length)
      problems.push(`Unexpected key(s) in pool state: ${unexpectedKeys.map((m) => `"${m}"`).join(', ')}.`);
    return { missingKeys, unexpectedKeys, problems };
  }

  override loadStateDict(dict: nn.StateDictLike, opts: { strict?: boolean } = {}): nn.LoadStateDictResult {
    const { missingKeys, unexpectedKeys, problems } = this.validateStateDict(dict, opts);
    if (problems.length) throw new Error(`Error(s) in loading the image pool state:\n\t${problems.join('\n\t')}`);
    const entries = new Map<string, nn.StateValue>(nn.stateEntries(dict));
    const k = [...entries.keys()].filter((key) => key.startsWith('images.')).length;
    const images: Tensor[] = [];
    for (let i = 0; i < k; i++) {
      const t = empty([1, ...this.imageShape], 'pool_image');
      nn.copyStateInto(t, entries.get(`images.${i}`)!);
      images.push(t);
    }
    const rng = entries.get('rng')!;
    this.pool.load(images, { rng: Number((rng as { data: ArrayLike<number | bigint> }).data[0]) >>> 0 });
    return { missingKeys, unexpectedKeys };
  }

  override dispose(): void {
    this.rngState.dispose();
  }
}
