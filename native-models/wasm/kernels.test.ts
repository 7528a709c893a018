import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { compileKernels, kernelsBinaryModule, KERNELS_BINARY_TS } from './compile-kernels.ts';
import { instantiateKernels, kernelFor } from './kernels.ts';

describe('the WebAssembly kernels', () => {
  test('the committed binary is kernels.wat compiled (else run: npx tsx scripts/build-wasm.ts)', async () => {
    expect(readFileSync(KERNELS_BINARY_TS, 'utf8')).toBe(kernelsBinaryModule(await compileKernels()));
  });

  test('run here (Node has WebAssembly SIMD); a binary the engine cannot compile means the JS kernels, not an error', async () => {
    expect(kernelFor()).toBe('wasm');
    expect(kernelFor('js')).toBe('js');
    const binary = await compileKernels();
    expect(instantiateKernels(binary)).toBeDefined();
    // An engine without SIMD rejects the module as this one rejects a damaged copy: validate() is false.
    const damaged = binary.slice(0, binary.length - 3);
    expect(instantiateKernels(damaged)).toBeUndefined();
  });
});
