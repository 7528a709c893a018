/**
 * native-models' public entry: what the hosts (cli/, host/, main/) may import, cheap to load
 * — names, constants, types and the typed errors, with no native library behind them, so a
 * host can list devices or check a folder at startup. The model itself (loading, importing,
 * inspecting) is in ./runtime.ts, which loads onnxruntime-node: hosts import that one only
 * where they are about to use a model, or with a dynamic import(). Lint keeps hosts to these
 * two files.
 */
export { DEVICES, type Device, type ExecutionDevice } from './onnx/device.ts';
export { IMPORT_PRECISIONS, formatBytes, type ImportPrecision, type Precision } from './models/kimi-vl/precision.ts';
export { MANIFEST_FILE, type ModelManifest } from './models/kimi-vl/manifest.ts';
export { IMPORT_MARKER, ImportCancelledError, OutputFolderError } from './checkpoint/output-folder.ts';
export { CheckpointError } from './checkpoint/errors.ts';
export { ContextLengthError, ModelMemoryError } from './models/kimi-vl/runtime/context-limit.ts';
export type { CacheType } from './models/kimi-vl/graphs/modeling-text.ts';
export type { ImportOptions, ImportPlan, ImportProgress } from './models/kimi-vl/import/import-checkpoint.ts';
export type { LoadOptions, LoadProgress } from './models/kimi-vl/runtime/load-progress.ts';
export type { KimiVLLocalModel, LocalChatMessage, LocalContentPart, LocalGenerateRequest, LocalGenerateResult } from './models/kimi-vl/runtime/local-model.ts';
export type { DevicePlacement, ModelInfo } from './models/kimi-vl/runtime/model-info.ts';
export type { PlacementSummary } from './models/kimi-vl/runtime/placement-check.ts';
export type { BenchOptions, BenchReport, BenchResult, BenchTest } from './models/kimi-vl/runtime/bench.ts';
