// What a training page offers the pages that use it (demos/dcgan, demos/train, demos/draw) and
// their extra panels (latent walk, pyramid walk, domain picker, sketch pad): the options a page
// passes to startTrainingPage, the context an extra panel can reach, and window.__demo, the handle
// the browser tests and the console read. Types only; demos/shared/training-page.ts implements them.

import type { PageDataset } from '../datasets.js';
import type { RunDefaults } from '../models.js';
import type { TrainingSession } from '../session.js';

/** What an extra panel can reach. */
export interface PageContext {
  readonly model: string;
  readonly session: TrainingSession | null;
  readonly data: PageDataset | null;
  readonly heldOut: PageDataset | null;
  /** Runs `fn` with training paused (then resumes); its message or error goes to the status line. */
  paused(what: string, fn: () => Promise<string | void>): Promise<void>;
  /**
   * Runs a view change that needs no training step (flip, domain, latent walk): at once when no step
   * is running, else queued for the end of the current step, with `button` marked "after this step".
   */
  betweenSteps(what: string, fn: () => Promise<string | void>, button?: HTMLElement): Promise<void>;
  status(text: string, kind?: 'info' | 'ok' | 'warn' | 'error'): void;
}

/** A panel of a page's own (latent walk, direction picker, sketch pad) redrawn as the model trains. */
export interface Extra {
  panel: HTMLElement;
  /** Placed before the samples panel instead of after the training panel. */
  first?: boolean;
  /** Redraws from the current networks (after steps that redraw the samples, resets and restores). */
  refresh(): Promise<void>;
  dispose?(): void;
}

export interface TrainingPageOptions {
  /** The model this page trains; null: ?model= (default: the registry's first) with a picker of every registered model. */
  model: string | null;
  /** Run settings before the URL's (the draw page's dataset and widths). */
  base?: (model: string) => Partial<RunDefaults>;
  /** IndexedDB key of the model's checkpoint (default: the model's name). */
  storeKey?: (model: string) => string;
  /** The page's own panels for a model (called when the model's data is loaded). */
  extras?: (ctx: PageContext) => Extra[];
  /** Header title and lede paragraph for a model. */
  title: (model: string) => string;
  lede: (model: string) => (Node | string)[];
}

export interface DemoHandle {
  readonly ready: boolean;
  readonly model: string;
  readonly step: number;
  readonly running: boolean;
  readonly lastStats: Record<string, number> | null;
  readonly deviceLost: boolean;
  /** Luminance spread of the sample grid's cells (0 = blank). */
  samplesSpread(): number;
  /** The same for any canvas drawn by drawGrid, by id. */
  spread(canvasId: string): number;
  /** Switches the page to another model in place (same GPU device); params replace the URL's. */
  switchModel(model: string, params?: Record<string, string | number>): Promise<void>;
  /** Destroys the GPU device, as a driver reset would (tests of the recovery path). */
  loseDevice(): void;
  /** What the page showed while starting, in order (tests: progress before the first step). */
  readonly progress: readonly ProgressEntry[];
  /** Whether the page sized its run for a software adapter. */
  readonly software: boolean;
  /** View changes waiting for the current step to end. */
  readonly queued: number;
  /** Which weights the networks started from (training-page.ts showWeights). */
  readonly weights: WeightsState;
}

/**
 * Where the page's networks came from: the trained weights shipped with the project (zoo/, the step
 * they are of, and whether the run's own optimiser state came with them), untrained ones, or a
 * checkpoint (this browser's, an upload). `shipped`: the step of the model's shipped weights, null
 * when none are shipped.
 */
export type WeightsState =
  | { kind: 'trained'; step: number; full: boolean; shipped: number | null }
  | { kind: 'untrained'; why: string; shipped: number | null }
  | { kind: 'checkpoint'; source: string; step: number; shipped: number | null };

/** One progress message of a page's start: phase, kernels compiled (of total when known), step then. */
export interface ProgressEntry {
  phase: 'kernels' | 'samples' | 'first-step' | 'done';
  done: number;
  total: number | null;
  step: number;
  text: string;
  /** performance.now() when shown (ms since the page's navigation started). */
  t: number;
}

/** The status line's kinds. */
export type StatusKind = 'info' | 'ok' | 'warn' | 'error';

declare global {
  interface Window {
    __demo?: DemoHandle;
  }
}
