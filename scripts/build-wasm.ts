/**
 * Regenerates native-models/wasm/kernels-binary.ts (the committed WebAssembly binary) from
 * kernels.wat. Run after editing the .wat: npx tsx scripts/build-wasm.ts
 * (native-models/wasm/kernels.test.ts fails while the two disagree).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileKernels, kernelsBinaryModule, KERNELS_BINARY_TS } from '../native-models/wasm/compile-kernels.ts';

const binary = await compileKernels();
writeFileSync(KERNELS_BINARY_TS, kernelsBinaryModule(binary));
console.log(`${fileURLToPath(KERNELS_BINARY_TS)}: ${binary.length} bytes of WebAssembly`);
