// The training page's run control: the loop that trains step after step while the page runs, and
// the states a control can put it in. Pause answers at once ("Pausing after this step…": the step
// in flight finishes, then the loop stops; a second click keeps training). Actions that change the
// networks (step, reset, save, load, switch) run `paused`: the loop stops, the action runs, the
// loop resumes if it was running. View changes that need no step (flip the direction, pick a
// domain, walk the latent space) run `betweenSteps`: at once when no step is in flight, else
// queued for the end of the current step and run in order, their button marked "after this step".

import type { StatusKind } from './api.js';

/** What the loop asks of its page. */
export interface LoopHost {
  /** One training step, with its redraws, autosave and stats. */
  oneStep(): Promise<void>;
  /** Whether there is a session to train. */
  hasSession(): boolean;
  /** Whether the GPU device was lost (the loop stops; the lost-device banner explains). */
  deviceLost(): boolean;
  /** The session's step (for messages). */
  step(): number;
  /** After the loop stopped: bring the views up to the step the counter shows. */
  catchUp(): Promise<void>;
  /** Enables or disables the controls (reading the loop's state for the pause button). */
  setControls(enabled: boolean): void;
  status(text: string, kind?: StatusKind): void;
  /** The status line's current kind ('error' messages stay when the loop pauses). */
  statusKind(): string | undefined;
  /** Whether the engine's device is gone (a failed step then says nothing more). */
  engineLost(): boolean;
}

interface Queued {
  what: string;
  fn: () => Promise<string | void>;
  button?: HTMLElement;
  done: () => void;
}

const yieldToUi = () => new Promise<void>((r) => setTimeout(r, 0));

export class RunLoop {
  /** Whether the page is training (false while pausing: the step in flight still finishes). */
  running = false;
  private loopDone: Promise<void> | null = null;
  private readonly queue: Queued[] = [];

  constructor(private readonly host: LoopHost) {}

  /** A step is in flight or the loop has not finished stopping. */
  get busy(): boolean {
    return !!this.loopDone;
  }

  /** Paused by the user while the step in flight finishes. */
  get pausing(): boolean {
    return !this.running && !!this.loopDone;
  }

  /** View changes waiting for the current step to end. */
  get queued(): number {
    return this.queue.length;
  }

  /** Starts training; `keepStatus` leaves the status line's message (an action that just finished). */
  start(keepStatus = false): void {
    const h = this.host;
    if (this.loopDone || !h.hasSession()) return;
    this.running = true;
    h.setControls(true);
    if (!keepStatus) h.status('training…');
    this.loopDone = (async () => {
      try {
        while (this.running && h.hasSession() && !h.deviceLost()) {
          await h.oneStep();
          await this.drainQueue();
          await yieldToUi();
        }
      } catch (e) {
        this.running = false;
        if (h.deviceLost() || h.engineLost()) return; // the lost-device banner explains
        h.status(`training failed: ${(e as Error).message}`, 'error');
        console.error(e);
      } finally {
        this.loopDone = null;
        // Paused between steps: the views show the step the counter shows.
        if (h.hasSession() && !h.deviceLost()) await h.catchUp().catch(() => undefined);
        await this.drainQueue();
        if (!h.deviceLost()) {
          h.setControls(true);
          if (h.statusKind() !== 'error') h.status(`paused at step ${h.step()}`);
        }
      }
    })();
  }

  /** Stops after the step in flight, and waits for it. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loopDone;
  }

  /** The pause/resume button: pause (answering at once), keep training while pausing, or start. */
  toggle(): void {
    const h = this.host;
    if (this.running) {
      // Answers at once: the step in flight finishes, then the loop stops ("Pausing after this step…").
      this.running = false;
      h.setControls(true);
      h.status(`pausing after step ${h.step() + 1}…`);
    } else if (this.loopDone) {
      // Clicked again while pausing: keep training.
      this.running = true;
      h.setControls(true);
      h.status('training…');
    } else this.start();
  }

  /** Runs the view changes queued during a step, in order. */
  private async drainQueue(): Promise<void> {
    while (this.queue.length && !this.host.deviceLost()) {
      const q = this.queue.shift()!;
      await this.runNow(q.what, q.fn);
      if (q.button) delete q.button.dataset.pending;
      q.done();
    }
  }

  private async runNow(what: string, fn: () => Promise<string | void>): Promise<void> {
    try {
      const msg = await fn();
      this.host.status(msg ?? `${what}: done`, 'ok');
    } catch (e) {
      this.host.status(`${what} failed: ${(e as Error).message}`, 'error');
    }
  }

  /** A view change: now when no step is in flight, else after the current step (see the header). */
  betweenSteps(what: string, fn: () => Promise<string | void>, button?: HTMLElement): Promise<void> {
    if (!this.loopDone) return this.runNow(what, fn);
    return new Promise<void>((done) => {
      this.queue.push({ what, fn, button, done });
      if (button) button.dataset.pending = 'after this step';
      this.host.status(`${what}: after this step (step ${this.host.step() + 1} is running)…`);
    });
  }

  /** Runs `fn` with training stopped, then resumes it if it was running; its message or error goes to the status line. */
  async paused(what: string, fn: () => Promise<string | void>): Promise<void> {
    const h = this.host;
    const wasRunning = this.running;
    if (this.loopDone) h.status(`${what}: after this step (step ${h.step() + 1} is running)…`);
    h.setControls(false);
    await this.stop();
    h.status(`${what}…`);
    try {
      const msg = await fn();
      h.status(msg ?? `${what}: done`, 'ok');
    } catch (e) {
      h.status(`${what} failed: ${(e as Error).message}`, 'error');
      h.setControls(true);
      return;
    }
    h.setControls(true);
    if (wasRunning) this.start(true);
  }
}
