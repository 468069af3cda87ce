// engine/nn: PyTorch-style modules (Module, Parameter, Sequential, ModuleList; nn/module.ts), the
// standard layers (nn/layers.ts) and the state-dict value helpers shared with optimisers and
// checkpoints (nn/state.ts).
export * from './nn/module.js';
export * from './nn/layers.js';
export * from './nn/state.js';
