/**
 * native-models' public entry for the model itself: loading an imported folder, importing a
 * Hugging Face checkpoint, and inspecting a folder on a device. Importing this loads
 * onnxruntime-node; the cheap names and types are in ./index.ts.
 */
export { KimiVLLocalModel } from './models/kimi-vl/runtime/local-model.ts';
export { importKimiVL } from './models/kimi-vl/import/import-checkpoint.ts';
export { devicePlacement, modelInfo } from './models/kimi-vl/runtime/model-info.ts';
export { readModelFolder } from './models/kimi-vl/manifest.ts';
export { verifyModelFolder } from './models/kimi-vl/runtime/verify-folder.ts';
export { countOpTypes } from './models/kimi-vl/runtime/placement-check.ts';
export { benchModels, checkBenchFolders } from './models/kimi-vl/runtime/bench.ts';
export { DeviceUnavailableError } from './onnx/backend.ts';
export { ImageInputError, ImageProcessorConfigError } from './models/kimi-vl/processing/image-processing.ts';
export { VisionNotAvailableError } from './models/kimi-vl/runtime/local-model.ts';
export { MultimodalPromptError } from './models/kimi-vl/runtime/multimodal.ts';
export { TokenizerInputError } from './models/kimi-vl/processing/tokenization.ts';
