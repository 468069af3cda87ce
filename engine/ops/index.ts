// Every op family. Importing this module registers all ops with the registry (for the op suite).
export * from './elementwise.js';
export * from './reduce.js';
export * from './movement.js';
