import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { artifactPath } from '../../test/harness/artifacts.ts';
import { checkedKimiConfigs } from '../../test/harness/kimi-configs.ts';
import { generatedNodes } from '../models/kimi-vl/graphs/generated-graphs.ts';
import { heavyKind } from '../models/kimi-vl/runtime/placement-check.ts';
import { crossCheckContrib, loadCudaKernelTable, loadWebGpuKernelTable, missingCudaKernel, parseContribRegistrations, parseOperatorKernels, webGpuHasKernel } from './kernel-tables.ts';
import { distinctSignatures, signatureKey, type NodeSignature } from './node-signatures.ts';

const nodes = generatedNodes(checkedKimiConfigs());
const signatures = distinctSignatures(nodes);
const cuda = loadCudaKernelTable();
const webgpu = loadWebGpuKernelTable();
const installed = (JSON.parse(readFileSync(new URL('../../node_modules/onnxruntime-node/package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Nodes allowed to lack a CUDA kernel, with the reason: none today. (The int4 experts had none
 * in fp32 — CUDA's QMoE is fp16/bf16 only — so they now compute in fp16.)
 */
const NO_CUDA_KERNEL: Readonly<Record<string, string>> = {};

describe('the CUDA kernel table', () => {
  test('comes from onnxruntime sources at named commits and stands for the installed onnxruntime-node', () => {
    expect(cuda.sources.map((s) => s.path)).toEqual(['docs/OperatorKernels.md', 'onnxruntime/contrib_ops/cuda/cuda_contrib_kernels.cc']);
    for (const s of cuda.sources) expect(s.commit).toMatch(/^[0-9a-f]{40}$/);
    // A new onnxruntime-node needs the table regenerated (scripts/kernel-tables.ts).
    expect(cuda.onnxruntime).toBe(installed);
  });

  test('every node of every generated graph, at every precision, has a CUDA kernel at its types', () => {
    // Every node, one line each (domain.op@opset(input types)->(output types)), for reading.
    const file = artifactPath('kernel-coverage', 'nodes.txt');
    writeFileSync(file, nodes.map((n) => `${n.graph}\t${n.name}\t${signatureKey(n)}\t${missingCudaKernel(cuda, n) ?? 'CUDA kernel'}`).join('\n') + '\n');
    console.log(`${nodes.length} nodes in ${new Set(nodes.map((n) => n.graph)).size} graphs for each of the Kimi-VL-A3B and tiny configurations, ${signatures.size} signatures; every node listed in ${file}`);
    const missing = [...signatures.values()].flatMap((n) => {
      const why = missingCudaKernel(cuda, n);
      return why && !NO_CUDA_KERNEL[signatureKey(n)] ? [`${n.graph}: ${n.name} — ${signatureKey(n)}: ${why}`] : [];
    });
    expect(missing).toEqual([]);
  });

  test('a node whose types have no CUDA kernel is caught: fp32 QMoE, as the int4 graph had it', () => {
    const qmoe = [...signatures.values()].find((n) => n.opType === 'QMoE')!;
    const fp32: NodeSignature = { ...qmoe, inputs: qmoe.inputs.map((t) => (t === 'float16' ? 'float' : t)), outputs: ['float'] };
    expect(missingCudaKernel(cuda, qmoe)).toBeUndefined();
    expect(missingCudaKernel(cuda, fp32)).toBe('input input is float; T allows bfloat16, float16');
    expect(missingCudaKernel(cuda, { ...fp32, opType: 'NoSuchOp' })).toBe('no CUDA kernel for com.microsoft.NoSuchOp at opset 1');
    // Two inputs bound to one constraint must agree.
    expect(missingCudaKernel(cuda, { domain: '', opType: 'Add', opset: 21, inputs: ['float', 'float16'], outputs: ['float'] })).toBe('T is bound to both float and float16');
  });
});

describe('reading the upstream files', () => {
  // A made-up excerpt in the layout of onnxruntime's generated table (not its text).
  const doc = [
    '## Operators implemented by CPUExecutionProvider',
    '|**Operator Domain:** *ai.onnx*||||',
    '|Widen|*in* X:**T**<br> *out* Y:**T**|3+|**T** = tensor(double)|',
    '## Operators implemented by CUDAExecutionProvider',
    '| Op Name | Parameters | OpSet Version | Types Supported |',
    '|---------|------------|---------------|-----------------|',
    '|**Operator Domain:** *ai.onnx*||||',
    '|Widen|*in* X:**T**<br> *in* shape:**tensor(int64)**<br> *out* Y:**T**<br><br>or<br><br>*in* X:**T**<br> *out* Y:**T**|30+|**T** = tensor(float)|',
    '|||[3, 29]|**T** = tensor(float), tensor(float16)|',
    '|**Operator Domain:** *com.microsoft*||||',
    '|Fold|*in* A:**T1**<br> *out* B:**T2**|1+|**T1** = tensor(uint8)<br/> **T2** = tensor(float16)|',
  ].join('\n');

  test('takes the provider\'s rows whose version range holds the opset, with parameters and types', () => {
    const rows = parseOperatorKernels(doc, 'CUDAExecutionProvider', new Set(['/Widen', 'com.microsoft/Fold']), { '': 21, 'com.microsoft': 1 });
    expect(rows).toEqual([
      { domain: '', op: 'Widen', since: 3, until: 29, signatures: [{ inputs: [{ name: 'X', constraint: 'T' }, { name: 'shape', constraint: 'tensor(int64)' }], outputs: [{ name: 'Y', constraint: 'T' }] }, { inputs: [{ name: 'X', constraint: 'T' }], outputs: [{ name: 'Y', constraint: 'T' }] }], types: { T: ['tensor(float)', 'tensor(float16)'] } },
      { domain: 'com.microsoft', op: 'Fold', since: 1, until: null, signatures: [{ inputs: [{ name: 'A', constraint: 'T1' }], outputs: [{ name: 'B', constraint: 'T2' }] }], types: { T1: ['tensor(uint8)'], T2: ['tensor(float16)'] } },
    ]);
    expect(() => parseOperatorKernels(doc, 'NoSuchExecutionProvider', new Set(['/Widen']), { '': 21 })).toThrow(/no rows for NoSuchExecutionProvider/);
  });

  test('cross-checks the contributed ops against their registrations', () => {
    const rows = parseOperatorKernels(doc, 'CUDAExecutionProvider', new Set(['com.microsoft/Fold']), { 'com.microsoft': 1 });
    const agreeing = parseContribRegistrations('class CUDA_MS_OP_TYPED_CLASS_NAME(1, uint8_t, Fold);\nclass CUDA_MS_OP_TWO_TYPED_CLASS_NAME(1, MLFloat16, float, Other);');
    expect(agreeing).toEqual(new Map([['Fold', new Set(['uint8'])], ['Other', new Set(['float16'])]]));
    expect(crossCheckContrib(rows, agreeing)).toEqual([]);
    expect(crossCheckContrib(rows, parseContribRegistrations('class CUDA_MS_OP_TYPED_CLASS_NAME(1, uint8_t, Fold);\nclass CUDA_MS_OP_TYPED_CLASS_NAME(1, int8_t, Fold);'))).toEqual(['Fold: the doc allows uint8 for T1, the registrations int8, uint8']);
    expect(crossCheckContrib(rows, new Map())).toEqual(['Fold: in the doc, not registered in the contrib kernels file']);
  });
});

describe('the WebGPU kernel table', () => {
  test('was probed on the installed onnxruntime-node and covers every signature of the generated graphs', () => {
    expect(webgpu.onnxruntime).toBe(installed);
    const unprobed = [...signatures.keys()].filter((k) => !(k in webgpu.signatures));
    expect(unprobed, 'regenerate with `npx tsx scripts/kernel-tables.ts webgpu`').toEqual([]);
  });

  test('the only heavy nodes without a WebGPU kernel are the fp32/fp16 experts (MoE)', () => {
    const heavyWithout = [...signatures.values()].filter((n) => webGpuHasKernel(webgpu, n) === false && heavyKind(n, n.graph.startsWith('vision') ? 'vision' : 'text'));
    expect(heavyWithout.map((n) => `${n.opType}(${n.inputs.join(',')})`).sort()).toEqual(['MoE(float,float,float,,float)', 'MoE(float16,float16,float16,,float16)']);
    const light = [...signatures.values()].filter((n) => webGpuHasKernel(webgpu, n) === false && n.opType !== 'MoE');
    console.log(`no WebGPU kernel (left to the CPU): ${light.map(signatureKey).join(', ')}`);
    // What is left are int64 position and shape computations, and the attention's block Loop
    // (control flow: its body is placed on its own) with the bool condition it passes on.
    for (const n of light) expect(n.inputs.some((t) => t === 'int64' || t === 'bool'), signatureKey(n)).toBe(true);
  });
});
