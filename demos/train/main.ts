// The generic training page: any model in nets/registry.ts, picked with ?model=NAME or the picker
// (switching keeps the GPU device, so kernels compiled for one model serve the next). The work is
// done by demos/shared/training-page.ts; this page adds the panels a model invites: a latent walk
// for generators of latent codes, the pyramid walk of coarse-to-fine cascades, StarGAN's target-domain picker.
// Image-to-image models get held-out input | output | target rows (both directions where the
// recipe's bothWays hook says so).
//
// URL parameters: model [dcgan], the model's options (ngf=8, net-g=unet_32, size=32, ...), batch,
// lr, dataset, seed, samples, sampleEvery, autosave, walk, autostart, fresh (training-page.ts).

import { modelLede, modelTitle } from '../shared/about.js';
import { domainPicker } from '../shared/domain-picker.js';
import { latentWalk } from '../shared/latent-walk.js';
import { pyramidWalk } from '../shared/pyramid-walk.js';
import { hasLatentCodes, startTrainingPage, type Extra } from '../shared/training-page.js';

startTrainingPage({
  model: null,
  extras: (ctx) => {
    const extras: (Extra | null)[] = [];
    if (ctx.session && hasLatentCodes(ctx.session)) extras.push(latentWalk(ctx));
    extras.push(pyramidWalk(ctx));
    extras.push(domainPicker(ctx));
    return extras.filter((x): x is Extra => x !== null);
  },
  title: modelTitle,
  lede: modelLede,
});
