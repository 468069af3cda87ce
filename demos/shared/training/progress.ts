// A training page's start-up progress: the bar and message under the training controls while the
// page compiles kernels (from the manifest of this run's last visit, all at once, with a total;
// or while drawing the first samples and taking the first step, counted as they compile), and the
// log of every message with its time and step (DemoHandle.progress, read by the browser tests).

import { engine } from '../../../engine/device.js';
import { byId } from '../dom.js';
import { loadManifest } from '../warmup.js';
import type { ProgressEntry, StatusKind } from './api.js';

export class StartupProgress {
  /** Every message shown, in order. */
  readonly log: ProgressEntry[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    /** The session's step now. */
    private readonly step: () => number,
    private readonly status: (text: string, kind?: StatusKind) => void,
  ) {}

  /** Shows (and logs) a start-up message; 'done' hides the progress bar. */
  show(phase: ProgressEntry['phase'], done: number, total: number | null, text: string): void {
    this.log.push({ phase, done, total, step: this.step(), text, t: performance.now() });
    const box = byId('progress');
    box.classList.toggle('hidden', phase === 'done');
    box.dataset.phase = phase;
    byId('progress-text').textContent = text;
    const bar = byId<HTMLProgressElement>('progress-bar');
    if (total) {
      bar.max = total;
      bar.value = done;
    } else bar.removeAttribute('value'); // indeterminate
    if (phase !== 'done') this.status(text);
  }

  /** Counts kernels compiled while `fn` runs (first visits: the total is not known beforehand). */
  async counting<T>(phase: 'samples' | 'first-step', what: string, fn: () => Promise<T>): Promise<T> {
    const base = engine().counters.pipelinesCompiled;
    const t0 = performance.now();
    const show = () => {
      const n = engine().counters.pipelinesCompiled - base;
      const secs = ((performance.now() - t0) / 1000).toFixed(0);
      this.show(phase, n, null, `${what}: ${n} new kernel${n === 1 ? '' : 's'} compiled so far (${secs} s)…`);
    };
    show();
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(show, 500);
    try {
      return await fn();
    } finally {
      clearInterval(this.timer);
      this.timer = null;
      show(); // the final count
    }
  }

  /** Compiles the kernels the run under `manifestKey` used last time (all at once, asynchronously), with progress. */
  async prewarm(manifestKey: string): Promise<void> {
    const specs = loadManifest(manifestKey);
    if (!specs.length) return;
    await engine().prewarm(specs, (done, total) => {
      if (total) this.show('kernels', done, total, `compiling kernels: ${done} of ${total}…`);
    });
  }
}
