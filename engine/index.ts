// The public API of the engine (`import { Tensor, tidy, ops, nn, optim, init } from 'webgpu-gan'`).
//
// Top level, the core: the device (initEngine, engine), tensors and their scopes (Tensor, tensor,
// tidy), autograd (backward, grad, noGrad) and the random generators. Then five namespaces:
//   ops    the ops a model is written with, as functions (engine/ops/public.ts); the common ones
//          are Tensor methods too: `a.sub(b).square().mean()`
//   nn     modules and layers (Module, Sequential, Conv2d, ...) and state-dict helpers
//   optim  optimisers and learning-rate schedules (Adam, SGD, RMSprop, LinearDecay, ...)
//   init   weight initialisers (normal_, kaimingUniform_, dcganInit_, ...)
//   io     safetensors and the checkpoint / model formats, on bytes
// Node helpers (creating a Dawn device, checkpoint files) are in engine/node.ts (`webgpu-gan/node`).
// No module under engine/ imports this file, so importing it creates no cycle.
import './ops/index.js'; // registers every op and installs the Tensor methods

// device
export { initEngine, engine, hasEngine, setEngine, getGpu, describeAdapter, Engine } from './device.js';
export type { InitOptions, AdapterSummary, EngineCounters, PooledBuffer, Recording, StepPlan } from './device.js';
// recorded-step replay
export { StepReplayer, compareRecordings } from './replay.js';
export type { StepOutcome, ReplayStep } from './replay.js';
// tensors and scopes
export { Tensor, tensor, empty, assign, tidy, beginScope, endScope, memory, liveTensorCount, numel, fmtShape } from './tensor.js';
export type { Shape, DType } from './tensor.js';
// autograd
export { backward, grad, noGrad, withGrad, isGradEnabled } from './tape.js';
// randomness: Generator draws on the device (Philox streams); Mulberry32 is a host-side generator
// with one u32 of state, for coin flips a checkpoint must reproduce (nets/lib/pool.ts)
export { Generator, manualSeed, defaultGenerator } from './ops/random.js';
export type { GeneratorState } from './ops/random.js';
export { Mulberry32 } from './ops/cpu/host.js';
// diagnostics
export { countNonFinite, nonFiniteTensors, describeNonFinite } from './finite.js';
export type { NonFiniteTensor } from './finite.js';

export * as ops from './ops/public.js';
export * as nn from './nn.js';
export * as optim from './optim.js';
export * as init from './init.js';
export * as io from './io/index.js';
