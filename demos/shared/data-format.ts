// The format of the training data the build writes into the site (dist/demos/data/) for the pages:
//
//   data/index.json              DataIndex: every dataset written, its sizes and files
//   data/<name>-<size>.bin       one dataset at one image side: n examples of `sampleShape`, as
//                                uint8 q for values in [-1, 1] (v = (q - 127) / 127: -1, 0 and 1
//                                exact, so label planes survive; images within 1/254) or float32
//                                (anything else), then optional int32 labels
//   data/<name>-<size>.json      DataManifest, describing that file
//
// MNIST keeps its own older files (mnist-train-8k.u8/.json, demos/shared/mnist.ts), resized in the
// page to any size. Written by demos/data/export.ts (Node), read by demos/shared/datasets.ts.

export interface DataManifest {
  /** The dataset's name as cli/datasets.ts knows it (emoji-pairs, ...), or `<name>-heldout`. */
  name: string;
  size: number;
  n: number;
  /** One example, [channels, size, size]. */
  sampleShape: number[];
  dtype: 'uint8' | 'float32';
  /** Bytes from the start of the .bin file. */
  dataOffset: number;
  /** int32 labels after the data, when the dataset has them. */
  labelsOffset?: number;
  /** Two-domain sets packed A then B along channels: each domain's name and channels. */
  domains?: { name: string; channels: number }[];
  /** Name of the held-out aligned pairs shown in the image-to-image grids (same size). */
  heldOut?: string;
  /** Names of the examples (emoji names), when known. */
  names?: string[];
  /** Each example's caption as tokens (emoji-text: StackGAN's text), when the dataset has them. */
  tokens?: string[][];
  /** Names of the label values (StarGAN's domains), when the labels are domains. */
  labelNames?: string[];
  /** Where the data came from, for the page's caption. */
  source: string;
}

export interface DataIndex {
  /** Dataset name -> size -> file stem (without .json/.bin), relative to data/. */
  datasets: Record<string, Record<string, string>>;
  /** Datasets the pages resample from one stored size (MNIST): name -> stored manifest. */
  resampled: Record<string, string>;
  /** Channels per example of every dataset (what recipes' adaptToData need before loading it). */
  channels: Record<string, number>;
}

export const DATA_INDEX = 'index.json';
