import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generatedGraphs, PRECISIONS } from '../../native-models/models/kimi-vl/graphs/generated-graphs.ts';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { readManifest } from '../../native-models/models/kimi-vl/manifest.ts';
import { defaultCacheType, type Precision } from '../../native-models/models/kimi-vl/graphs/modeling-text.ts';
import { summarizePlacement } from '../../native-models/models/kimi-vl/runtime/placement-check.ts';
import { parseKimiVLConfig } from '../../native-models/models/kimi-vl/configuration.ts';
import { DeviceUnavailableError } from '../../native-models/onnx/backend.ts';
import { GraphBuilder } from '../../native-models/onnx/graph-builder.ts';
import { loadWebGpuKernelTable, webGpuHasKernel } from '../../native-models/onnx/kernel-tables.ts';
import { writeModel } from '../../native-models/onnx/model-writer.ts';
import { typedNodes } from '../../native-models/onnx/node-signatures.ts';
import { DataType } from '../../native-models/onnx/onnx-proto.ts';
import { CPU_PROVIDER, providerName, readPlacement, type Placement } from '../../native-models/onnx/placement.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';
import { WEBGPU_FIX } from '../harness/webgpu.ts';

// Where onnxruntime places each node of the tiny checkpoint's graphs on WebGPU (lavapipe here),
// read from its verbose session log. No heavy node may run on the CPU, except the fp32/fp16
// experts: MoE has no WebGPU kernel.
const ckpt = tinyCheckpoint({ seed: 21 });
const work = tempDir('placement');
const config = parseKimiVLConfig(JSON.parse(readFileSync(join(ckpt.dir, 'config.json'), 'utf8')));
const webgpu = loadWebGpuKernelTable();

async function placementOn(file: string): Promise<Placement> {
  try {
    return await readPlacement(file, 'webgpu');
  } catch (err) {
    if (err instanceof DeviceUnavailableError) throw new Error(`WebGPU cannot start here (${err.message}); ${WEBGPU_FIX}`);
    throw err;
  }
}

beforeAll(async () => {
  for (const precision of PRECISIONS) await importKimiVL({ source: ckpt.dir, out: join(work.dir, precision), precision });
}, 120_000);
afterAll(() => {
  ckpt.cleanup();
  work.cleanup();
});

describe.each(PRECISIONS)('%s on WebGPU', (precision: Precision) => {
  const dir = () => join(work.dir, precision);

  test.each(['text', 'vision'] as const)('%s graph: no heavy node runs on the CPU but the documented experts; placement agrees with the WebGPU kernel table', async (part) => {
    const manifest = readManifest(dir());
    const placement = await placementOn(join(dir(), part === 'text' ? manifest.text.graph.file : manifest.vision.graph.file));
    expect(placement.device).toBe('webgpu');
    const summary = summarizePlacement(placement, part, precision);
    console.log(`${precision} ${part}: ${summary.total} nodes, ${summary.onCpu.length} on the CPU: ${summary.onCpu.map((n) => `${n.opType}(${n.name})`).join(' ')}`);
    expect(summary.heavyOnCpu.filter((h) => !h.accepted).map((h) => `${h.kind}: ${h.node.opType} ${h.node.name}`)).toEqual([]);
    const moeLayers = config.text.numHiddenLayers - config.text.firstKDenseReplace;
    expect(summary.heavyOnCpu.map((h) => h.node.opType)).toEqual(part === 'text' && precision !== 'int4' ? Array(moeLayers).fill('MoE') : []);

    // Cross-check with the probed table: in the whole graph each node lands where its signature
    // alone did — on WebGPU where the table says it has a kernel, on the CPU where not.
    const cacheType = manifest.text.cacheType ?? defaultCacheType(precision);
    const built = generatedGraphs(config, precision).find((g) => g.part === part && (part === 'vision' || g.name.includes(`(${cacheType} cache)`)))!;
    const byName = new Map(typedNodes(built.graph).map((n) => [n.name, n]));
    let matched = 0;
    for (const placed of placement.nodes) {
      const node = byName.get(placed.name);
      if (!node || node.opType !== placed.opType) continue; // fused or inserted by onnxruntime
      matched++;
      const hasKernel = webGpuHasKernel(webgpu, node);
      expect(hasKernel, `${placed.name} is not in the WebGPU table`).not.toBeUndefined();
      expect(placed.provider, `${placed.name}: the table says ${hasKernel ? 'a' : 'no'} WebGPU kernel`).toBe(hasKernel ? providerName('webgpu') : CPU_PROVIDER);
    }
    expect(matched).toBeGreaterThan(byName.size / 2);
  });
});

describe('the check can fail', () => {
  const matmul = async (type: typeof DataType.FLOAT | typeof DataType.INT64, withFloatNode: boolean) => {
    const g = new GraphBuilder();
    const a = g.input('a', type, [2, 3]);
    const b = g.input('b', type, [3, 2]);
    g.output(g.op('MatMul', [a, b], 'layers.0.attn.scores_raw'), type, [2, 2]);
    if (withFloatNode) g.output(g.op('Add', [g.input('c', DataType.FLOAT, [2]), g.input('d', DataType.FLOAT, [2])], 'layers.0.output'), DataType.FLOAT, [2]);
    const file = (await writeModel(g, work.dir, `matmul-${type}-${withFloatNode}`)).modelFile;
    return summarizePlacement(await placementOn(file), 'text', 'int4').heavyOnCpu.map((h) => `${h.kind}: ${h.node.name}`);
  };

  test('a matrix product changed to int64, which WebGPU has no kernel for, is caught on the CPU', async () => {
    expect(await matmul(DataType.FLOAT, true)).toEqual([]);
    expect(await matmul(DataType.INT64, true)).toEqual(['matrix product: layers.0.attn.scores_raw']);
    // Alone, onnxruntime puts it on the CPU without naming it: still not cleared.
    expect(await matmul(DataType.INT64, false)).toEqual(['unlisted: ?']);
  });
});
