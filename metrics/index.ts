// Sample-quality and reconstruction metrics (see docs/metrics.md), browser-safe parts:
//   classifier.ts        a small CNN classifier (LeNet-5 shape) and its seeded training loop
//   frechet.ts           Frechet distance between feature distributions (float64, Jacobi eigen)
//   kid.ts               KID: unbiased MMD^2, cubic polynomial kernel, over random subsets
//   precision_recall.ts  improved precision/recall (k-NN manifolds, Kynkaanniemi et al. 2019)
//   image.ts             L1, PSNR, SSIM on the GPU, with float64 CPU references
//   emojinet.ts          the emoji feature net (categories of 32x32 colour emoji), conditional accuracy
// The MNIST-trained LeNet feature extractor and the weights caches read files: Node code imports
// metrics/lenet.ts and classifier_cache.ts directly (as with engine/checkpoint_node.ts).
export * from './classifier.js';
export * from './frechet.js';
export * from './kid.js';
export * from './precision_recall.js';
export * from './image.js';
export * from './emojinet.js';
