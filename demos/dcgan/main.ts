// The DCGAN page: the registry's DCGAN trained on MNIST in the tab (demos/shared/training-page.ts
// does the work: sample grid from fixed latent codes, loss and discriminator-output charts from the
// model's `demo` hook, controls, checkpoints, device-loss recovery), plus a latent-space walk.
//
// URL parameters (defaults in brackets) size the run; the browser tests use tiny ones:
//   size [32] nz [100] ngf [32] ndf [32] batch [64] samples [64] seed [1] lr [0.0002]
//   autostart [1] fresh [0] sampleEvery [20] autosave [250] walk [8]
// State for tests and the console: window.__demo (training-page.ts DemoHandle).

import { getRecipe } from '../../nets/registry.js';
import { architectureOf, paperLink } from '../shared/architectures.js';
import { el } from '../shared/dom.js';
import { latentWalk } from '../shared/latent-walk.js';
import { startTrainingPage } from '../shared/training-page.js';

const model = getRecipe('dcgan')!.name;
const arch = architectureOf(model)!;

startTrainingPage({
  model,
  extras: (ctx) => [latentWalk(ctx)],
  title: () => `${arch.name} on MNIST, trained in this tab`,
  lede: () => [
    `${arch.paper.authors}, `,
    el('a', { href: paperLink(arch).href }, arch.paper.title),
    ` (${arch.paper.year}). The generator and discriminator below are the engine's `,
    el('code', {}, `nets/${model}.ts`),
    ', trained with Adam on the first 8,000 MNIST digits; every kernel runs as WGSL on your GPU. The grid shows the same fixed latent codes as training goes on.',
  ],
});
