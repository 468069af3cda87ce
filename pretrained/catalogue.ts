// The UpscalerJS ESRGAN models (MIT, https://github.com/thekevinscott/UpscalerJS), as their npm
// packages ship them: tfjs layers models converted from Keras (idealo's image-super-resolution RDN
// and RRDN). Package, scales, model.json path and value ranges are those of each package's model
// definition (dist/*/models/<name>/src: getESRGANModelDefinition): the RDN models ('rdn':
// default-model, slim, medium) take and give 0-255; the RRDN model ('rrdn': thick, with its
// MultiplyBeta and PixelShuffle<N>x layers) takes and gives 0-1. tests/esrgan.test.ts checks this
// table against the installed packages' own definitions.
// Browser-safe: no Node imports (pretrained/node.ts loads from node_modules).

export type UpscalerModelId = 'default-model' | 'esrgan-slim' | 'esrgan-medium' | 'esrgan-thick';

export interface UpscalerModelEntry {
  id: UpscalerModelId;
  /** npm package name. */
  pkg: string;
  /** Upscaling factors the package ships. */
  scales: readonly number[];
  /** 'rdn' (Conv2D / ReLU / Concatenate / Add / UpSampling2D) or 'rrdn' (+ MultiplyBeta, PixelShuffle). */
  architecture: 'rdn' | 'rrdn';
  /** The model's input and output value ranges (its model definition's inputRange / outputRange). */
  inputRange: readonly [number, number];
  outputRange: readonly [number, number];
  /** Approximate size of the package's weights, all scales together. */
  sizeMB: number;
  /**
   * Not a dependency of this repository (too large); install it yourself with
   * `npm install --no-save @upscalerjs/esrgan-thick` to use it.
   */
  optional?: boolean;
}

type Architecture = UpscalerModelEntry['architecture'];

/** One package's entry: its npm name is @upscalerjs/<id>; the architecture fixes the value ranges (rdn 0-255, rrdn 0-1). */
function entry(
  id: UpscalerModelId,
  architecture: Architecture,
  scales: readonly number[],
  sizeMB: number,
  optional = false,
): UpscalerModelEntry {
  const range = architecture === 'rdn' ? ([0, 255] as const) : ([0, 1] as const);
  const e: UpscalerModelEntry = { id, pkg: `@upscalerjs/${id}`, scales, architecture, inputRange: range, outputRange: range, sizeMB };
  return optional ? { ...e, optional } : e;
}

const ALL_SCALES = [2, 3, 4, 8];

export const UPSCALER_MODELS: readonly UpscalerModelEntry[] = [
  entry('default-model', 'rdn', [2], 1),
  entry('esrgan-slim', 'rdn', ALL_SCALES, 4),
  entry('esrgan-medium', 'rdn', ALL_SCALES, 11),
  entry('esrgan-thick', 'rrdn', ALL_SCALES, 110, true),
];

export const UPSCALER_MODEL_IDS = UPSCALER_MODELS.map((m) => m.id);

/** The catalogue entry of a model id (a clear error for unknown ids). */
export function upscalerModel(id: string): UpscalerModelEntry {
  const m = UPSCALER_MODELS.find((e) => e.id === id);
  if (!m) throw new Error(`unknown upscaler model '${id}'; known: ${UPSCALER_MODEL_IDS.join(', ')}`);
  return m;
}

/** Checks that the model ships `scale` (error lists the ones it does). */
export function checkScale(m: UpscalerModelEntry, scale: number): void {
  if (!m.scales.includes(scale))
    throw new Error(`${m.id} has no x${scale} model; it ships x${m.scales.join(', x')} (use --scale ${m.scales[0]})`);
}

/** Path of model.json inside the package folder ('models/model.json' for default-model, else 'models/x<scale>/model.json'). */
export function modelJsonPath(m: UpscalerModelEntry, scale: number): string {
  checkScale(m, scale);
  return m.id === 'default-model' ? 'models/model.json' : `models/x${scale}/model.json`;
}
