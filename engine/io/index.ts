// The `io` namespace of the public entry (engine/index.ts): safetensors encoding and the training
// checkpoint and model formats, all on bytes (browser-safe). Writing and reading them as files is
// the Node entry's job (engine/node.ts: saveCheckpoint, loadModel, ...).
export {
  encodeSafetensors,
  decodeSafetensors,
  nonFiniteEntries,
  tensorToFloat32,
  SafetensorsError,
  type SafetensorsDtype,
  type SafetensorsData,
  type SafetensorsTensor,
  type SafetensorsFile,
} from './safetensors.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkpointToBytes,
  modelToBytes,
  checkpointInfo,
  restoreCheckpoint,
  loadModelBytes,
  nonFiniteInCheckpoint,
  RestoreError,
  NonFiniteCheckpointError,
  type Json,
  type CheckpointContents,
  type CheckpointTargets,
  type RestoreOptions,
  type CheckpointInfo,
  type LoadModelOptions,
} from '../checkpoint.js';
