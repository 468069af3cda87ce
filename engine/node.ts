// The Node entry (`import { initNodeEngine, saveCheckpoint } from 'webgpu-gan/node'`): a WebGPU
// device from Dawn (the npm package `webgpu`, a native addon) and the checkpoint, model and
// safetensors files, written atomically. Kept apart from engine/index.ts because it imports node:fs
// (the main entry stays browser-safe). Use it beside the main entry:
//
//   import { tidy, ops, nn, optim } from 'webgpu-gan';
//   import { initNodeEngine, saveModel } from 'webgpu-gan/node';
//   const engine = await initNodeEngine();   // Dawn: Vulkan, Metal or D3D12; lavapipe without a GPU
import { getGpu, initEngine, type Engine, type InitOptions } from './device.js';

/**
 * Creates (once) Dawn's GPU object and from it the engine's device, made current for every op.
 * Without a GPU, Dawn finds a software Vulkan adapter (Mesa lavapipe, SwiftShader) if one is
 * installed; `bash scripts/setup.sh` in this repository installs lavapipe.
 */
export async function initNodeEngine(opts: Omit<InitOptions, 'gpu'> = {}): Promise<Engine> {
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new Error("initNodeEngine: not running in Node; in a browser call initEngine() from 'webgpu-gan' (it uses navigator.gpu)");
  }
  // unsafeSkipValidation: initEngine takes the skip_validation instance itself (and warns).
  if (opts.unsafeSkipValidation) return initEngine(opts);
  return initEngine({ ...opts, gpu: await getGpu() });
}

export { getGpu as dawnGpu, napWhile } from './device.js';
export { saveCheckpoint, loadCheckpoint, readCheckpointMeta, saveModel, loadModel } from './checkpoint_node.js';
export { saveSafetensorsFile, loadSafetensorsFile, writeFileAtomic } from './io/files.js';
