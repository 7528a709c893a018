/**
 * Prints one digest per graph Kestrel can generate, to show that a change to the graph builders
 * left every graph as it was (or which ones it changed):
 *
 *   npx tsx scripts/graph-digests.ts > before.txt
 *   … change the builders …
 *   npx tsx scripts/graph-digests.ts | diff before.txt -
 *
 * A digest covers the model file as the writer writes it (nodes, constants, inputs, outputs, the
 * weights' names, shapes, types and places in the data file), the weights' groups, and the
 * recipes the weights are made from, in order — everything of an import but the weights' values,
 * which the recipes determine. The graphs are built without weights, for Kimi-VL-A3B's published
 * config and for tiny ones (the test checkpoint's; unnormalised routing without shared experts;
 * two dense layers), at every precision, cache type, int4 expert form and MLA form.
 */
import { createHash } from 'node:crypto';
import { parseKimiVLConfig, type KimiVLConfig } from '../native-models/models/kimi-vl/configuration.ts';
import { buildTextGraph, type CacheType, type Int4ExpertForm, type TextGraphOptions } from '../native-models/models/kimi-vl/graphs/modeling-text.ts';
import { buildVisionGraph, type VisionWeights } from '../native-models/models/kimi-vl/graphs/modeling-vision.ts';
import { PRECISIONS } from '../native-models/models/kimi-vl/graphs/generated-graphs.ts';
import { tinyConfigJson } from '../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import type { GraphBuilder } from '../native-models/onnx/graph-builder.ts';
import { modelProto } from '../native-models/onnx/model-writer.ts';
import { encodeModel } from '../native-models/onnx/onnx-proto.ts';
import { realKimiConfig } from '../test/harness/kimi-configs.ts';

const CONFIGS: Record<string, KimiVLConfig> = {
  'Kimi-VL-A3B': realKimiConfig(),
  tiny: parseKimiVLConfig(tinyConfigJson()),
  'tiny, unnormalised routing, no shared experts': parseKimiVLConfig(tinyConfigJson({ text: { norm_topk_prob: false, n_shared_experts: 0, first_k_dense_replace: 0 } })),
  'tiny, two dense layers': parseKimiVLConfig(tinyConfigJson({ text: { first_k_dense_replace: 2, num_hidden_layers: 4 } })),
};
const CACHE_TYPES: readonly CacheType[] = ['fp32', 'fp16'];
const MLA_FORMS = { 'MLA by length': {}, 'MLA decompressed': { decompressedFrom: 1 } } as const;

const never = (): never => {
  throw new Error('graph-digests.ts builds graphs without weights; nothing may read them');
};

function digest(graph: GraphBuilder, name: string, recipes: readonly string[]): string {
  const model = encodeModel(modelProto(graph, name, `${name}.onnx.data`));
  const hash = createHash('sha256').update(model);
  for (const w of graph.weights) hash.update(`\0${w.group ?? ''}`);
  for (const r of recipes) hash.update(`\0${r}`);
  return `${hash.digest('hex').slice(0, 16)}  ${graph.nodes.length} nodes, ${graph.weights.length} weights, ${model.length} bytes`;
}

for (const [configName, config] of Object.entries(CONFIGS)) {
  for (const precision of PRECISIONS) {
    const forms: readonly (Int4ExpertForm | undefined)[] = precision === 'int4' ? ['qmoe', 'per-expert'] : [undefined];
    for (const cacheType of CACHE_TYPES) {
      for (const int4Experts of forms) {
        for (const [formName, form] of Object.entries(MLA_FORMS)) {
          const recipes: string[] = [];
          const options: TextGraphOptions = { precision, cacheType, int4Experts, ...form, produce: (recipe) => (recipes.push(JSON.stringify(recipe)), never) };
          const label = [configName, 'text', precision, `${cacheType} cache`, int4Experts, formName].filter(Boolean).join(' | ');
          console.log(`${label}: ${digest(buildTextGraph(config.text, options), 'text-model', recipes)}`);
        }
      }
    }
  }
  for (const matrices of ['fp32', 'fp16'] satisfies VisionWeights[]) {
    const graph = buildVisionGraph(config.vision, config.text.hiddenSize, never, matrices);
    console.log(`${configName} | vision | ${matrices} matrices: ${digest(graph, 'vision-model', graph.weights.map((w) => w.name))}`);
  }
}
