// The training panel's controls: which are enabled (all wait for a session; Step only while
// paused; the pause button names the loop's state: Pause, "Pausing after this step…", Resume),
// and what each does. The buttons that change the networks run their action with training
// paused (RunLoop.paused); the page supplies the actions.

import { byId } from '../dom.js';
import { fileBytes } from '../files.js';
import type { StatusKind } from './api.js';
import type { PageLayout } from './layout.js';
import type { RunLoop } from './run-loop.js';

/** What the controls do, supplied by the page. Each returns the status line's message. */
export interface ControlActions {
  loop: RunLoop;
  status(text: string, kind?: StatusKind): void;
  /** One training step (drawing the samples, since the loop is not running). */
  step(): Promise<string>;
  /** New networks from `seed`, at learning rate `lr` (the run's when not positive). */
  reset(seed: number, lr: number): Promise<string>;
  /** Sets the learning rate from the next step. */
  setLr(lr: number): string;
  saveInBrowser(): Promise<string>;
  loadFromBrowser(): Promise<string>;
  download(): Promise<string>;
  /** Restores an uploaded .safetensors checkpoint. */
  upload(bytes: Uint8Array, name: string): Promise<string>;
  /** Switches the page to another model (the generic page's picker). */
  pickModel(model: string): void;
  /** Starts a new GPU device after a loss and resumes from the last checkpoint. */
  recover(): void;
  /** Loads the model's shipped trained weights. */
  trained(): Promise<string>;
  /** New untrained networks of the page's own run. */
  untrained(): Promise<string>;
}

/** Enables or disables the controls; the pause button shows the loop's state. */
export function renderControls(u: PageLayout, loop: RunLoop, enabled: boolean, extraPanels: readonly HTMLElement[]): void {
  for (const b of [u.toggle, u.reset, u.lrApply, u.saveIdb, u.loadIdb, u.download]) b.disabled = !enabled;
  u.upload.disabled = !enabled;
  u.uploadLabel.classList.toggle('disabled', !enabled);
  u.step.disabled = !enabled || loop.running;
  if (u.picker) u.picker.disabled = !enabled;
  if (u.direction) u.direction.disabled = !enabled;
  // "Trained weights" only where the model ships weights that fit the page's run (showWeights sets data-usable).
  u.untrained.disabled = !enabled;
  u.trained.disabled = !enabled || u.trained.dataset.usable !== '1';
  for (const p of extraPanels) p.querySelectorAll<HTMLButtonElement>('button[data-needs-session]').forEach((b) => (b.disabled = !enabled));
  // Pause answers at once: the button says so while the step in flight finishes; clicking it
  // again cancels the pause.
  const pausing = loop.pausing;
  if (pausing) u.toggle.disabled = false;
  u.toggle.textContent = loop.running ? 'Pause' : pausing ? 'Pausing after this step…' : 'Resume';
  u.toggle.dataset.state = loop.running ? 'running' : pausing ? 'pausing' : 'paused';
  document.body.dataset.running = String(loop.running);
}

/** Connects the controls to the page's actions. */
export function wireControls(u: PageLayout, a: ControlActions): void {
  const { loop } = a;
  u.toggle.addEventListener('click', () => loop.toggle());
  u.step.addEventListener('click', () => loop.paused('step', () => a.step()));
  u.reset.addEventListener('click', () =>
    loop.paused('reset', async () => {
      const seed = Number(u.seed.value);
      if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got '${u.seed.value}'`);
      return a.reset(seed, Number(u.lr.value));
    }),
  );
  u.lrApply.addEventListener('click', () => {
    try {
      if (u.lr.validity.badInput || u.lr.value.trim() === '') {
        throw new Error('learning rate: the box does not hold a number; type one such as 0.0002');
      }
      a.status(a.setLr(Number(u.lr.value)), 'ok');
    } catch (e) {
      a.status((e as Error).message, 'error');
    }
  });
  u.saveIdb.addEventListener('click', () => loop.paused('save in browser', () => a.saveInBrowser()));
  u.loadIdb.addEventListener('click', () => loop.paused('load from browser', () => a.loadFromBrowser()));
  u.download.addEventListener('click', () => loop.paused('download', () => a.download()));
  u.upload.addEventListener('change', () => {
    const file = u.upload.files?.[0];
    if (!file) return;
    void loop.paused(`load ${file.name}`, async () => {
      const msg = await a.upload(await fileBytes(file), file.name);
      u.upload.value = '';
      return msg;
    });
  });
  u.trained.addEventListener('click', () => loop.paused('trained weights', () => a.trained()));
  u.untrained.addEventListener('click', () => loop.paused('untrained', () => a.untrained()));
  u.picker?.addEventListener('change', () => a.pickModel(u.picker!.value));
  byId('btn-recover').addEventListener('click', () => a.recover());
}
