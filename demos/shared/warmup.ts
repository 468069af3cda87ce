// Starting a training page without a silent wait: what the page shows while WGSL kernels compile,
// and what it remembers to compile them faster next time.
//   - kernel manifests: after a run's first training step the page keeps the specs of every kernel
//     the engine compiled (localStorage, keyed by model, config, batch and sample count); the next
//     visit with the same run compiles them all at once with createComputePipelineAsync
//     (Engine.prewarm: the browser may compile them in parallel, off the page's thread) and shows
//     "kernels compiled k of N" before the first step;
//   - on a first visit the total is not known: the page counts the kernels as the first samples and
//     the first step compile them;
//   - software adapters (SwiftShader, llvmpipe, WARP, or any adapter flagged as a fallback) get
//     smaller default widths and batch, and the page says which and how to ask for the GPU sizes.

import type { Engine, KernelSpec } from '../../engine/device.js';
import { kebab } from '../../cli/lib/args.js';
import type { ModelConfig } from '../../nets/registry.js';

const PREFIX = 'webgpu-gan:kernels:v1:';

/** The localStorage key of a run's kernel manifest. */
export function manifestKey(model: string, config: ModelConfig, batch: number, samples: number): string {
  return `${PREFIX}${model}|${JSON.stringify(config)}|batch ${batch}|samples ${samples}`;
}

export function loadManifest(key: string): KernelSpec[] {
  try {
    const raw = localStorage.getItem(key);
    if (!raw) return [];
    const specs = JSON.parse(raw) as KernelSpec[];
    return Array.isArray(specs)
      ? specs.filter((s) => typeof s?.key === 'string' && typeof s.code === 'string' && Array.isArray(s.bindings))
      : [];
  } catch {
    return [];
  }
}

/**
 * Keeps the engine's kernels for this run. When storage is full, the other runs' manifests make room
 * (the newest run is the likeliest to come back); false when it still does not fit or storage is off.
 */
export function saveManifest(key: string, specs: readonly KernelSpec[]): boolean {
  const text = JSON.stringify(specs.map((s) => ({ key: s.key, code: s.code, entryPoint: s.entryPoint, bindings: s.bindings, op: s.op })));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      localStorage.setItem(key, text);
      return true;
    } catch {
      try {
        for (const k of Object.keys(localStorage)) if (k.startsWith(PREFIX) && k !== key) localStorage.removeItem(k);
      } catch {
        return false;
      }
    }
  }
  return false;
}

/** A software rasteriser or a fallback adapter; ?adapter=software|gpu overrides (tests, curious users). */
export function isSoftwareAdapter(e: Engine, params: URLSearchParams): boolean {
  const forced = params.get('adapter');
  if (forced === 'software') return true;
  if (forced === 'gpu') return false;
  const a = e.adapter;
  const text = [a.vendor, a.architecture, a.device, a.description].join(' ');
  return a.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|\bwarp\b/i.test(text);
}

/** Width-like options a software adapter gets at most SOFTWARE_WIDTH of. */
export const WIDTH_OPTION = /^(n[gd]f\d?|nf|[gd]ConvDim)$/;
export const SOFTWARE_WIDTH = 8;
export const SOFTWARE_BATCH = 16;

/**
 * The smaller run a software adapter gets: widths at most 8 and batch at most 16, except where the
 * URL sets them. Returns the run and what changed (option, from, to).
 */
export function softwareSized<R extends { config: ModelConfig; batch: number }>(
  run: R,
  params: URLSearchParams,
): { run: R; changed: [string, number, number][] } {
  const changed: [string, number, number][] = [];
  const config = { ...run.config };
  const inUrl = (k: string) => params.has(k) || params.has(kebab(k));
  for (const [k, v] of Object.entries(config)) {
    if (WIDTH_OPTION.test(k) && typeof v === 'number' && v > SOFTWARE_WIDTH && !inUrl(k)) {
      config[k] = SOFTWARE_WIDTH;
      changed.push([k, v, SOFTWARE_WIDTH]);
    }
  }
  let batch = run.batch;
  if (batch > SOFTWARE_BATCH && !params.has('batch')) {
    changed.push(['batch', batch, SOFTWARE_BATCH]);
    batch = SOFTWARE_BATCH;
  }
  return { run: { ...run, config, batch }, changed };
}

/** Seconds as the pages show them: "0.42 s", "12 s", "2.1 min". */
export function fmtSeconds(s: number): string {
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 120) return `${s.toFixed(0)} s`;
  return `${(s / 60).toFixed(1)} min`;
}
