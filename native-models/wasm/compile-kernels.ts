/**
 * Compiles kernels.wat to its WebAssembly binary with wabt (a devDependency: only the build
 * script and the test that checks the committed binary import this file; the runtime reads
 * the committed bytes in kernels-binary.ts and needs no compiler).
 */
import { readFileSync } from 'node:fs';
import wabt from 'wabt';

export const KERNELS_WAT = new URL('./kernels.wat', import.meta.url);
export const KERNELS_BINARY_TS = new URL('./kernels-binary.ts', import.meta.url);

export async function compileKernels(): Promise<Uint8Array> {
  const module = (await wabt()).parseWat('kernels.wat', readFileSync(KERNELS_WAT, 'utf8'));
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

/** The generated module's text: the binary as base64, in a .ts file so bundlers need no asset rule. */
export function kernelsBinaryModule(binary: Uint8Array): string {
  const base64 = Buffer.from(binary).toString('base64');
  const lines = base64.match(/.{1,100}/g)!.map((line) => `  '${line}'`);
  return [
    '// Generated from kernels.wat by scripts/build-wasm.ts — do not edit; kernels.test.ts checks it matches.',
    `export const KERNELS_WASM_BASE64 =\n${lines.join(' +\n')};`,
    '',
  ].join('\n');
}
