// The ESRGAN inference cases (bench/esrgan.ts) in `npm run bench`: model files from node_modules,
// tfjs-webgpu on the same Dawn instance as the engine, results appended to the run's report file.

import { engine, getGpu } from '../engine/index.js';
import { readUpscalerFiles, findPackageDir } from '../pretrained/node.js';
import { upscalerModel } from '../pretrained/catalogue.js';
import { esrganCases, runEsrganBench, type EsrganMode, type EsrganRecord } from './esrgan.js';
import { writeReport, type FileRunOptions } from './node_io.js';
import { createTfjs, type TfjsHandle } from './tfjs.js';
import type { BenchReport } from './report.js';

export async function runEsrganNode(
  report: BenchReport,
  run: Omit<FileRunOptions, 'savePath'>,
  log: (l: string) => void,
  deadline: number | null = null,
): Promise<EsrganRecord[]> {
  const rec = run.recorded as { esrgan?: string; thick?: boolean; esrganSizes?: string };
  const want = rec.esrgan ?? 'auto';
  const onlyOk = run.only.length === 0 || run.only.some((t) => t === 'esrgan' || t.startsWith('esrgan:'));
  if (want === 'off' || !onlyOk) return [];
  const mode: EsrganMode = want === 'auto' ? (engine().isSoftware ? 'quick' : 'full') : (want as EsrganMode);
  const thick = !!rec.thick;
  if (thick && !findPackageDir(upscalerModel('esrgan-thick').pkg)) {
    log(
      'esrgan: --thick given but @upscalerjs/esrgan-thick is not installed (npm install --no-save @upscalerjs/esrgan-thick); running without it',
    );
  }
  const sizes = rec.esrganSizes ? rec.esrganSizes.split(',').map(Number) : undefined;
  if (sizes && !sizes.every((s) => Number.isInteger(s) && s > 0))
    throw new Error(`--esrgan-sizes: expected a comma list of positive integers, got '${rec.esrganSizes}'`);
  let cases = esrganCases(mode, { thick: thick && !!findPackageDir(upscalerModel('esrgan-thick').pkg), sizes });
  const filt = run.only.filter((t) => t.startsWith('esrgan:')).map((t) => t.slice(7));
  if (filt.length) cases = cases.filter((c) => filt.includes(c.model));
  const missing = [...new Set(cases.map((c) => c.model))].filter((id) => !findPackageDir(upscalerModel(id).pkg));
  if (missing.length) {
    log(`esrgan: not installed here, skipped: ${missing.map((id) => upscalerModel(id).pkg).join(', ')}`);
    cases = cases.filter((c) => !missing.includes(c.model));
  }
  let h: TfjsHandle | null = null;
  let tfl: typeof import('@tensorflow/tfjs-layers') | null = null;
  if (run.tfjs) {
    try {
      h = await createTfjs(await getGpu());
      tfl = await import('@tensorflow/tfjs-layers');
    } catch (e) {
      log(`esrgan: tfjs unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  log(
    `esrgan: ${mode} cases (${cases.length})${engine().isSoftware && want === 'auto' ? ' (software adapter: --esrgan full for every model/scale at 64 and 256 px)' : ''}`,
  );
  const warmup = Math.max(1, run.time.warmup);
  const repeats = Math.max(1, Math.min(run.time.repeats, mode === 'quick' ? 2 : run.time.repeats));
  const records = await runEsrganBench(cases, readUpscalerFiles, h, { warmup, repeats, log, tfl, deadline });
  report.esrgan = records;
  report.options.esrgan_mode = mode;
  report.options.esrgan_timing = { warmup, repeats };
  const path = report.options.json;
  if (typeof path === 'string') writeReport(path, report);
  return records;
}
