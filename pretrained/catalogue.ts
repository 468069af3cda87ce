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

export const UPSCALER_MODELS: readonly UpscalerModelEntry[] = [
  {
    id: 'default-model',
    pkg: '@upscalerjs/default-model',
    scales: [2],
    architecture: 'rdn',
    inputRange: [0, 255],
    outputRange: [0, 255],
    sizeMB: 1,
  },
  {
    id: 'esrgan-slim',
    pkg: '@upscalerjs/esrgan-slim',
    scales: [2, 3, 4, 8],
    architecture: 'rdn',
    inputRange: [0, 255],
    outputRange: [0, 255],
    sizeMB: 4,
  },
  {
    id: 'esrgan-medium',
    pkg: '@upscalerjs/esrgan-medium',
    scales: [2, 3, 4, 8],
    architecture: 'rdn',
    inputRange: [0, 255],
    outputRange: [0, 255],
    sizeMB: 11,
  },
  {
    id: 'esrgan-thick',
    pkg: '@upscalerjs/esrgan-thick',
    scales: [2, 3, 4, 8],
    architecture: 'rrdn',
    inputRange: [0, 1],
    outputRange: [0, 1],
    sizeMB: 110,
    optional: true,
  },
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
