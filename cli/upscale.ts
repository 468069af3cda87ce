// `gan upscale IMAGE --model esrgan-slim --scale 4 [--out x.png]`: super-resolution with one of
// UpscalerJS's published ESRGAN generators (tfjs layers models from npm, imported by pretrained/),
// run by the engine. The PNG is read as RGB (alpha composited over white), fed in the model's value
// range, and the output written as an 8-bit RGB PNG.

import { basename, extname, resolve } from 'node:path';
import type { PngImage } from '../data/png.js';
import { readPng, writePng } from '../data/png_node.js';
import { UPSCALER_MODELS, UPSCALER_MODEL_IDS, checkScale, upscalerModel } from '../pretrained/catalogue.js';
import { loadUpscalerModel } from '../pretrained/node.js';
import { activationTooLarge, upscaleImage, type UpscaleResult } from '../pretrained/upscale.js';
import { acquireEngine, CliError, firstLine, out, parseOrHelp, usageError } from './common.js';

const spec = {
  command: 'gan upscale',
  description:
    'Upscale a PNG with a pretrained ESRGAN generator from UpscalerJS (tfjs weights from npm, run by\n' +
    'the engine on the GPU). Models: default-model (x2), esrgan-slim and esrgan-medium (x2, x3, x4, x8);\n' +
    'esrgan-thick (x2, x3, x4, x8) after `npm install --no-save @upscalerjs/esrgan-thick`.',
  options: {
    model: { type: 'string', default: 'esrgan-slim', choices: UPSCALER_MODEL_IDS, help: 'which UpscalerJS model' },
    scale: { type: 'int', default: 4, choices: [2, 3, 4, 8], help: 'upscaling factor (the model must ship it)' },
    out: { type: 'string', metavar: 'PATH', help: 'output PNG (default: <image>-<model>-x<scale>.png in the working directory)' },
    json: { type: 'boolean', help: 'print one JSON object (output path, sizes, times) instead of a line' },
  },
  positionals: [{ name: 'image', help: 'a PNG (gray, RGB or RGBA)', required: true }],
  examples: ['gan upscale photo.png --model esrgan-slim --scale 4', 'gan upscale emoji.png --model default-model --scale 2 --out big.png'],
} as const;

export async function upscaleCommand(argv: readonly string[]): Promise<number> {
  const args = parseOrHelp(argv, spec);
  if (!args) return 0;
  const { model: id, scale, json } = args.options;
  const entry = upscalerModel(id as string);
  try {
    checkScale(entry, scale as number);
  } catch (e) {
    throw usageError(spec.command, firstLine(e));
  }
  const input = resolve(args.positionals[0]);
  const outPath = resolve((args.options.out as string | undefined) ?? `${basename(input, extname(input))}-${entry.id}-x${scale}.png`);
  if (outPath === input) throw usageError(spec.command, `--out is the input image itself (${input}); choose another path`);
  let img: PngImage;
  try {
    img = readPng(input);
  } catch (e) {
    throw new CliError(`${spec.command}: ${firstLine(e)}`);
  }
  const engine = await acquireEngine(spec.command);
  const t0 = performance.now();
  let loaded: Awaited<ReturnType<typeof loadUpscalerModel>>;
  try {
    loaded = await loadUpscalerModel(entry.id, scale as number);
  } catch (e) {
    throw new CliError(`${spec.command}: ${firstLine(e)}`);
  }
  const t1 = performance.now();
  const tooLarge = activationTooLarge(loaded.model, img.height, img.width, engine.limits.maxStorageBufferBindingSize);
  if (tooLarge) throw new CliError(`${spec.command}: ${tooLarge}`);
  // First run compiles the kernels; the time reported is the whole call (upload, run, readback).
  let res: UpscaleResult;
  try {
    res = await upscaleImage(loaded.model, entry, img);
  } catch (e) {
    throw new CliError(`${spec.command}: ${entry.id} x${scale} on ${img.width}x${img.height}: ${firstLine(e)}`);
  }
  const t2 = performance.now();
  const rgb = new Uint8Array(res.width * res.height * 3);
  for (let i = 0; i < res.width * res.height; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = res.rgba[4 * i + c];
  try {
    writePng(outPath, rgb, res.width, res.height, 3);
  } catch (e) {
    throw new CliError(`${spec.command}: ${firstLine(e)}`);
  }
  const summary = {
    input,
    output: outPath,
    model: entry.id,
    package: entry.pkg,
    scale,
    inputSize: [img.width, img.height],
    outputSize: [res.width, res.height],
    loadMs: Math.round(t1 - t0),
    upscaleMs: Math.round(t2 - t1),
  };
  if (json) out.line(JSON.stringify(summary));
  else
    out.line(
      `gan upscale: wrote ${outPath} (${img.width}x${img.height} -> ${res.width}x${res.height}, ${entry.id} x${scale}, load ${summary.loadMs} ms, upscale ${summary.upscaleMs} ms incl. kernel compilation)`,
    );
  return 0;
}

/** For `gan info`-style listings. */
export const upscaleModelsLine = () => UPSCALER_MODELS.map((m) => `${m.id} (x${m.scales.join('/x')})`).join(', ');
