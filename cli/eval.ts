// `gan eval`: evaluations. `gan eval modes` runs the mode-counting comparison on Gaussian mixtures
// (cli/eval_modes.ts). Sample-quality metrics for an image model's checkpoint (a LeNet-feature
// Frechet distance, KID, precision/recall: see ANCHORS "Metrics without downloaded weights") are
// not wired in yet, so for those this command says so plainly and exits non-zero rather than
// printing numbers that mean nothing.

import { getRecipe, recipes } from '../nets/registry.js';
import { CliError, parseOrHelp, usageError } from './common.js';
import { readCheckpointInfo } from './checkpoint_io.js';
import { evalModesCommand } from './eval_modes.js';

const spec = {
  command: 'gan eval',
  description:
    'Evaluate a trained model (sample-quality metrics). Give a model name or --ckpt.\n' +
    '`gan eval modes` compares mode coverage on Gaussian mixtures (see `gan eval modes --help`).',
  options: {
    ckpt: { type: 'string', metavar: 'PATH', help: 'checkpoint to evaluate (its model is read from it)' },
  },
  positionals: [{ name: 'model', help: `model name (${Object.keys(recipes).join(', ')}), or 'modes'` }],
} as const;

export async function evalCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'modes') return evalModesCommand(argv.slice(1));
  const args = parseOrHelp(argv, spec);
  if (!args) return 0;
  let model = args.positionals[0];
  if (args.options.ckpt) model = (await readCheckpointInfo('gan eval', args.options.ckpt)).model;
  if (!model) throw usageError('gan eval', 'give a model name or --ckpt PATH; see --help');
  if (!getRecipe(model)) throw usageError('gan eval', `unknown model '${model}' (known: ${Object.keys(recipes).join(', ')})`);
  throw new CliError(`gan eval: evaluation is not yet available for ${model} (sample grids from \`gan sample\` are the check for now)`, 1);
}
