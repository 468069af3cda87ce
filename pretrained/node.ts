// Loading the UpscalerJS models in Node: model.json and its .bin shards read from the package's
// folder under node_modules (searched upward from the working directory and from this module).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  concatBytes,
  loadLayersModel,
  type ImportOptions,
  type TfjsLayersModel,
  type TfjsLayersModelJson,
  type HostWeight,
} from './tfjs_layers.js';
import { modelJsonPath, upscalerModel, type UpscalerModelEntry } from './catalogue.js';

/** The installed folder of an npm package, or null when it is not installed. */
export function findPackageDir(pkg: string, from: string[] = []): string | null {
  const starts = [...from, process.cwd()];
  try {
    starts.push(dirname(fileURLToPath(import.meta.url)));
  } catch {
    // bundled without import.meta.url: the working directory will do
  }
  for (const s of starts) {
    let d = resolve(s);
    for (;;) {
      const cand = join(d, 'node_modules', pkg);
      if (existsSync(join(cand, 'package.json'))) return cand;
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  return null;
}

/** The package folder of a catalogue model, or an error that says how to install it. */
export function requirePackageDir(m: UpscalerModelEntry): string {
  const dir = findPackageDir(m.pkg);
  if (!dir) {
    throw new Error(
      m.optional
        ? `${m.id} is not installed (${m.sizeMB} MB, not a dependency of this repository): run \`npm install --no-save ${m.pkg}\``
        : `${m.pkg} is not installed: run \`npm install\``,
    );
  }
  return dir;
}

/** Reads model.json + shards from a folder (any tfjs layers model on disk). */
export async function loadLayersModelFromFile(
  modelJson: string,
  opts: ImportOptions = {},
): Promise<{ model: TfjsLayersModel; json: TfjsLayersModelJson; weights: Map<string, HostWeight> }> {
  const dir = dirname(modelJson);
  return loadLayersModel(readFileSync(modelJson, 'utf8'), async (p) => new Uint8Array(readFileSync(join(dir, p))), opts);
}

/** Imports an UpscalerJS model at a scale from node_modules. */
export async function loadUpscalerModel(
  id: string,
  scale: number,
): Promise<{
  entry: UpscalerModelEntry;
  model: TfjsLayersModel;
  json: TfjsLayersModelJson;
  weights: Map<string, HostWeight>;
  modelJson: string;
}> {
  const entry = upscalerModel(id);
  const file = join(requirePackageDir(entry), modelJsonPath(entry, scale));
  const r = await loadLayersModelFromFile(file, { name: `${id} x${scale}` });
  return { entry, modelJson: file, ...r };
}

/** model.json and each weight group's shards (concatenated) of a catalogue model, from node_modules. */
export async function readUpscalerFiles(
  entry: UpscalerModelEntry,
  scale: number,
): Promise<{ json: TfjsLayersModelJson; groups: Uint8Array[] }> {
  const file = join(requirePackageDir(entry), modelJsonPath(entry, scale));
  const json = JSON.parse(readFileSync(file, 'utf8')) as TfjsLayersModelJson;
  const groups = json.weightsManifest.map((g) => concatBytes(g.paths.map((p) => new Uint8Array(readFileSync(join(dirname(file), p))))));
  return { json, groups };
}
