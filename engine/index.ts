// The public API of the engine: device, tensors, autograd, ops, nn, optimisers, io.
export * from './device.js';
export * from './tensor.js';
export * from './tape.js';
export * from './ops/index.js';
export { opRegistry, registerOp } from './ops/registry.js';
export type { OpSpec, HostTensor } from './ops/registry.js';
export * from './init.js';
export * from './nn.js';
export * from './optim.js';
export * from './checkpoint.js';
