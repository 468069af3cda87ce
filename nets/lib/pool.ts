// The image pool CycleGAN (and the papers built on it) trains its discriminators on: a history of
// generated images (Shrivastava et al. 2017), drawn with a seeded host generator so a resumed run
// picks the same images; ImagePoolState carries a pool into checkpoints (exact resume).
//
// The images live in one GPU tensor of poolSize slots, and a query is one kernel (ops.poolExchange_)
// whose per-row actions (keep, store in slot s, swap with slot s) are drawn on the host when the
// kernel's uniforms are computed: eagerly, or by a replayed step's refresh (engine/replay.ts). The
// step therefore issues the same kernel on the same buffers every step, and CycleGAN replays with
// its pool.

import { Mulberry32, Tensor, assign, empty, engine, fmtShape, tensor, ops, nn } from '../../engine/index.js';

/**
 * A buffer of previously generated images (CycleGAN trains D on it to damp oscillation). query()
 * takes a batch of generated images and returns a batch of the same shape: while the pool is not
 * full each image is stored and returned as is; afterwards each image, with probability 1/2,
 * replaces a random stored one, which is returned in its place (otherwise it is returned itself).
 * The returned batch is a new tensor without gradient. The pool's images are one GPU tensor
 * (`store`, allocated zero-filled at the first query or load); call dispose() when done.
 */
export class ImagePool {
  /** The stored images, [poolSize, C, H, W]; slots `size` and above are still zeros. */
  private storeT: Tensor | null = null;
  private count = 0;
  /** The coin flips: the engine's host mulberry32, whose u32 state checkpoints hold. */
  private readonly rng: Mulberry32;

  constructor(
    readonly poolSize: number,
    seed = 0,
  ) {
    if (!Number.isInteger(poolSize) || poolSize < 0) throw new Error(`ImagePool: poolSize must be a non-negative integer, got ${poolSize}`);
    this.rng = new Mulberry32(seed);
  }

  /** Images stored so far (grows to poolSize). */
  get size(): number {
    return this.count;
  }

  /** The slots tensor [poolSize, ...image] (null before the first query or load; read, do not dispose). */
  get store(): Tensor | null {
    return this.storeT;
  }

  /** The slots tensor for images of `image` shape ([C, H, W]), allocated zero-filled on first use. */
  ensureStore(image: readonly number[]): Tensor {
    const want = [this.poolSize, ...image];
    if (this.storeT) {
      if (this.storeT.shape.length !== want.length || this.storeT.shape.some((d, i) => d !== want[i]))
        throw new Error(
          `ImagePool: images of shape ${fmtShape(image)} for a pool that holds ${fmtShape(this.storeT.shape.slice(1))} (a pool serves one image size)`,
        );
      return this.storeT;
    }
    const n = want.reduce((a, b) => a * b, 1);
    this.storeT = tensor(new Float32Array(n), want).keep();
    return this.storeT;
  }

  /**
   * The actions of batch rows row0 .. row0 + rows - 1, drawn in row order: while filling, store in
   * the next slot; then a coin flip (> 0.5: swap with a random slot, else keep), as the reference's
   * loop. Called once per query dispatch, eagerly or by a replayed step.
   */
  private draw(rows: number): number[] {
    const out: number[] = [];
    for (let r = 0; r < rows; r++) {
      if (this.count < this.poolSize) out.push(ops.poolStore(this.count++));
      else if (this.rng.next() > 0.5) out.push(ops.poolSwap(Math.floor(this.rng.next() * this.poolSize)));
      else out.push(ops.POOL_KEEP);
    }
    return out;
  }

  query(batch: Tensor): Tensor {
    if (this.poolSize === 0) return batch.detach();
    const store = this.ensureStore(batch.shape.slice(1));
    const out = empty(batch.shape, 'image_pool', batch.dtype);
    return ops.poolExchange_(store, batch.detach(), out, (_row0, rows) => this.draw(rows));
  }

  /** The coin-flip generator's state (for checkpoints, with the store: ImagePoolState below). */
  getState(): { rng: number } {
    return { rng: this.rng.state };
  }

  setState(s: { rng: number }): void {
    this.rng.state = s.rng >>> 0;
  }

  /**
   * A resume: `fill(store)` writes the first `stored` images into the (zeroed) slots tensor, and the
   * coin-flip state is restored.
   */
  load(image: readonly number[], stored: number, fill: (store: Tensor) => void, s: { rng: number }): void {
    if (!(Number.isInteger(stored) && stored >= 0 && stored <= this.poolSize))
      throw new Error(`ImagePool.load: ${stored} images for a pool of ${this.poolSize}`);
    this.storeT?.dispose();
    this.storeT = null;
    fill(this.ensureStore(image));
    this.count = stored;
    this.setState(s);
  }

  dispose(): void {
    this.storeT?.dispose();
    this.storeT = null;
    this.count = 0;
  }
}

/**
 * An ImagePool as checkpoint state, so a resumed run draws its discriminators' fakes from the same
 * history as an uninterrupted one. A Module only as a carrier for the checkpoint format: its state
 * dict is `images` (the slots, [poolSize, C, H, W], the first `stored` of them filled, the rest
 * zeros), `stored` (int32 [1]) and the coin-flip state `rng` (int32 [1]: the u32 state's bits).
 * Checkpoints written before the pool moved into one tensor hold `images.0` ... `images.{k-1}`
 * ([1, C, H, W] each, k stored) instead of `images` and `stored`; they load alike. Not a network: no
 * parameters; `gan convert` and `gan sample` skip it (GanTrainer.trainingState).
 */
export class ImagePoolState extends nn.Module {
  private readonly rngState: Tensor;
  private readonly storedState: Tensor;

  constructor(
    readonly pool: ImagePool,
    readonly imageShape: readonly [number, number, number],
  ) {
    super();
    this.rngState = tensor([0], [1], 'int32').keep();
    this.storedState = tensor([0], [1], 'int32').keep();
  }

  override extraRepr(): string {
    return `pool_size=${this.pool.poolSize}, stored=${this.pool.size}, image=[1, ${this.imageShape.join(', ')}]`;
  }

  /** The live slots tensor plus `stored` and `rng` (uploaded now, so read the dict before the next query()). */
  override stateDict(prefix = ''): Map<string, Tensor> {
    assign(this.rngState, [this.pool.getState().rng | 0]);
    assign(this.storedState, [this.pool.size]);
    const out = new Map<string, Tensor>();
    if (this.pool.poolSize > 0) out.set(`${prefix}images`, this.pool.ensureStore(this.imageShape));
    out.set(`${prefix}stored`, this.storedState);
    out.set(`${prefix}rng`, this.rngState);
    return out;
  }

  override validateStateDict(dict: nn.StateDictLike, opts: { strict?: boolean } = {}): nn.LoadStateDictResult & { problems: string[] } {
    const entries = new Map(nn.stateEntries(dict));
    const problems: string[] = [];
    const legacy = [...entries.keys()].filter((k) => /^images\.(0|[1-9]\d*)$/.test(k));
    const known = (k: string) => k === 'rng' || k === 'images' || k === 'stored' || legacy.includes(k);
    const unexpectedKeys = [...entries.keys()].filter((k) => !known(k));
    const missingKeys: string[] = [];
    const scalar = (key: string) => {
      const v = entries.get(key);
      if (!v) return missingKeys.push(key);
      if (nn.stateShape(v).length !== 1 || nn.stateShape(v)[0] !== 1 || nn.stateKind(v) !== 'int32')
        problems.push(`${key}: expected an integer tensor of shape [1], got ${nn.stateKind(v)} ${fmtShape(nn.stateShape(v))}`);
      else if (v instanceof Tensor) problems.push(`${key}: a pool state loads from checkpoint data, not from a GPU tensor`);
    };
    scalar('rng');
    const want = [1, ...this.imageShape];
    const imageProblem = (key: string, v: nn.StateValue, rows: number | null) => {
      const s = nn.stateShape(v);
      if (nn.stateKind(v) !== 'float32' || s.length !== 4 || s.some((d, j) => j > 0 && d !== want[j]) || (rows !== null && s[0] !== rows))
        problems.push(
          `${key}: expected a float tensor [${rows ?? 'k'}, ${this.imageShape.join(', ')}], got ${nn.stateKind(v)} ${fmtShape(s)}`,
        );
    };
    if (legacy.length) {
      // The layout before the slots tensor: images.0 .. images.{k-1}, one image each.
      if (entries.has('images') || entries.has('stored'))
        problems.push('both the slots tensor (images, stored) and per-image entries (images.0, ...): a pool state holds one layout');
      const k = legacy.length;
      if (k > this.pool.poolSize)
        problems.push(`${k} pool images for a pool of ${this.pool.poolSize} (--pool-size differs from the checkpoint's?)`);
      for (let i = 0; i < k; i++) {
        const v = entries.get(`images.${i}`);
        if (!v) missingKeys.push(`images.${i}`);
        else imageProblem(`images.${i}`, v, 1);
      }
    } else {
      scalar('stored');
      const images = entries.get('images');
      const stored = storedOf(entries.get('stored'));
      if (!images) {
        if (this.pool.poolSize > 0 || stored) missingKeys.push('images');
      } else {
        imageProblem('images', images, null);
        const rows = nn.stateShape(images)[0];
        if (stored !== null && !(stored >= 0 && stored <= rows))
          problems.push(`stored: ${stored} images, but the slots tensor has ${rows} rows`);
        else if (stored !== null && stored > this.pool.poolSize)
          problems.push(`${stored} pool images for a pool of ${this.pool.poolSize} (--pool-size differs from the checkpoint's?)`);
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
    const plane = this.imageShape.reduce((a, b) => a * b, 1);
    const e = engine();
    const legacy = [...entries.keys()].filter((k) => /^images\.(0|[1-9]\d*)$/.test(k)).length;
    const images = entries.get('images');
    // Each source is copied through a temporary of its own shape, then into its rows of the slots.
    const sources: [nn.StateValue, number][] = legacy
      ? Array.from({ length: legacy }, (_, i) => [entries.get(`images.${i}`)!, 1])
      : images
        ? [[images, nn.stateShape(images)[0]]]
        : [];
    const stored = legacy || (storedOf(entries.get('stored')) ?? 0);
    const rng = entries.get('rng')!;
    this.pool.load(
      this.imageShape,
      stored,
      (store) => {
        let row = 0;
        for (const [v, rows] of sources) {
          const take = Math.min(rows, stored - row);
          if (take <= 0) break;
          const t = empty([rows, ...this.imageShape], 'pool_image');
          nn.copyStateInto(t, v);
          e.copy(t.buffer, 0, store.buffer, row * plane * 4, take * plane * 4);
          t.dispose();
          row += take;
        }
      },
      { rng: Number((rng as { data: ArrayLike<number | bigint> }).data[0]) >>> 0 },
    );
    return { missingKeys, unexpectedKeys };
  }

  override dispose(): void {
    this.rngState.dispose();
    this.storedState.dispose();
  }
}

/** The count in a `stored` entry (checkpoint data; null when absent or not readable). */
function storedOf(v: nn.StateValue | undefined): number | null {
  if (!v || v instanceof Tensor) return null;
  const d = (v as { data: ArrayLike<number | bigint> }).data;
  return d.length === 1 ? Number(d[0]) : null;
}
