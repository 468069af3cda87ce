// Every op family. Importing this module registers all ops with the registry (for the op suite) and
// installs the chainable Tensor methods (methods.ts). The public entry's `ops` namespace is the
// curated list in ops/public.ts.
export * from './elementwise.js';
export * from './reduce.js';
export * from './movement.js';
export * from './random.js';
export * from './rows.js';
export * from './losses.js';
export * from './softmax.js';
export * from './norm.js';
export * from './spatial.js';
export * from './pyramid.js';
export * from './conv.js';
export * from './matmul.js';
import './methods.js';
