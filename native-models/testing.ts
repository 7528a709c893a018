/**
 * native-models' entry for tests outside it (hosts' tests, test/, scripts/): tiny random
 * checkpoints in the exact Hugging Face layout, and the config parser and size estimate to
 * check what a host shows against. Lint lets only test files import it.
 */
export { writeTinyCheckpoint, type TinyCheckpoint, type TinyCheckpointOptions } from './models/kimi-vl/testing/tiny-checkpoint.ts';
export { parseKimiVLConfig } from './models/kimi-vl/configuration.ts';
export { estimateWeights } from './models/kimi-vl/import/weights-size.ts';
