// A training page's checkpoints: the session's networks, optimisers, noise stream and chart
// history as .safetensors bytes (the CLI's run layout, so `gan sample` and `gan train --resume`
// read a download), kept three ways: the newest in memory (to resume on a new device after the
// GPU device is lost), one per model in IndexedDB (autosaved every N steps, restored on load), and
// as a file to download or upload. The checkpoint line of the stats panel says which is newest.

import type { StatsCharts } from '../charts.js';
import { byId } from '../dom.js';
import { downloadBytes } from '../files.js';
import type { TrainingSession } from '../session.js';
import { getCheckpoint, putCheckpoint, type StoredCheckpoint } from '../store.js';

export class Checkpoints {
  /** The newest checkpoint the page made or loaded (memory copy, for recovering a lost device). */
  last: { bytes: Uint8Array; step: number } | null = null;

  /** `storeKey`: the IndexedDB key of the current model's checkpoint. */
  constructor(private readonly storeKey: () => string) {}

  /** Shows what the newest checkpoint is in the stats panel. */
  note(text: string): void {
    byId('stat-ckpt').textContent = text;
  }

  /** Remembers bytes just restored as the newest checkpoint. */
  restored(bytes: Uint8Array, step: number, source: string): void {
    this.last = { bytes, step };
    this.note(`step ${step} (${source})`);
  }

  /** Forgets the newest checkpoint (a new model on the page). */
  clear(): void {
    this.last = null;
    this.note('none yet');
  }

  /** A checkpoint of the session now (with the charts' history), kept as the newest. */
  async capture(s: TrainingSession, charts: StatsCharts): Promise<Uint8Array> {
    const bytes = await s.toBytes(charts.history());
    this.last = { bytes, step: s.step };
    return bytes;
  }

  /** Saves a checkpoint in this browser's IndexedDB under the model's key; `what` says why (saved, autosaved). */
  async saveToBrowser(s: TrainingSession, charts: StatsCharts, what: string): Promise<void> {
    const bytes = await this.capture(s, charts);
    await putCheckpoint({ key: this.storeKey(), bytes, step: s.step, savedAt: Date.now(), config: s.spec.config });
    this.note(`step ${s.step} (${what}, ${(bytes.length / 1024).toFixed(0)} KiB)`);
  }

  /** The checkpoint saved in this browser for the current model, or null. */
  stored(): Promise<StoredCheckpoint | null> {
    return getCheckpoint(this.storeKey());
  }

  /** Downloads a checkpoint named after the run (model, data, size, step); returns the message. */
  async download(s: TrainingSession, charts: StatsCharts, dataName: string): Promise<string> {
    const bytes = await this.capture(s, charts);
    const name = `${s.spec.model}-${dataName}${s.spec.config.imageSize}-step${s.step}.safetensors`;
    downloadBytes(name, bytes);
    this.note(`step ${s.step} (downloaded)`);
    return `downloaded ${name} (${(bytes.length / 1024).toFixed(0)} KiB)`;
  }
}
