// Every op family. Importing this module registers all ops with the registry (for the op suite).
export * from './elementwise.js';
export * from './reduce.js';
export * from './movement.js';
export * from './random.js';
export * from './losses.js';
export * from './softmax.js';
export * from './norm.js';
export * from './spatial.js';
export * from './pyramid.js';
export * from './conv.js';
export * from './matmul.js';
