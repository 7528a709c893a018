import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkedKimiConfigs } from '../../test/harness/kimi-configs.ts';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { generatedGraphs, PRECISIONS } from '../models/kimi-vl/graphs/generated-graphs.ts';
import { openSession } from './backend.ts';
import type { GraphBuilder } from './graph-builder.ts';
import { IR_VERSION, OPSETS } from './model-writer.ts';
import { ELEMENT_NAMES, signatureKey, typedNodes } from './node-signatures.ts';
import { DataType, encodeModel, type DataTypeCode, type NodeProto, type ValueInfo } from './onnx-proto.ts';

const work = tempDir('signatures');
afterAll(() => work.cleanup());

const CODES = new Map(Object.entries(ELEMENT_NAMES).map(([code, name]) => [name, Number(code) as DataTypeCode]));

/**
 * The graph with its weights turned into inputs (no values needed) and every node output
 * declared with the type node-signatures.ts inferred — as a graph output at the top level, as a
 * value_info inside a subgraph (If branches, Loop bodies): onnxruntime infers the types itself
 * when it loads a model and refuses one whose declarations disagree.
 */
function declaredModel(g: GraphBuilder, override?: { value: string; type: DataTypeCode }): Uint8Array {
  const typeOf = new Map<string, DataTypeCode>();
  for (const node of typedNodes(g)) node.proto.outputs.forEach((name, i) => typeOf.set(name, override?.value === name ? override.type : CODES.get(node.outputs[i]!)!));
  const declared = new Set(g.outputs.map((o) => o.name));
  const outputs: ValueInfo[] = [...g.outputs];
  for (const node of g.nodes) for (const name of node.outputs) if (!declared.has(name)) outputs.push({ name, elemType: typeOf.get(name)! });
  const withValueInfo = (node: NodeProto): NodeProto => ({
    ...node,
    attributes: node.attributes.map((a) => {
      if (a.kind !== 'graph') return a;
      const own = new Set(a.value.outputs.map((o) => o.name));
      const valueInfo = a.value.nodes.flatMap((n) => n.outputs).filter((name) => !own.has(name)).map((name) => ({ name, elemType: typeOf.get(name)! }));
      return { ...a, value: { ...a.value, nodes: a.value.nodes.map(withValueInfo), valueInfo } };
    }),
  });
  const weights: ValueInfo[] = g.weights.map((w) => ({ name: w.name, elemType: w.dataType, shape: w.dims }));
  return encodeModel({ irVersion: IR_VERSION, opsets: OPSETS, producerName: 'kestrel-test', producerVersion: '0', graph: { name: 'declared', nodes: g.nodes.map(withValueInfo), initializers: g.constants, inputs: [...g.inputs, ...weights], outputs } });
}

async function loads(bytes: Uint8Array, name: string): Promise<void> {
  const file = join(work.dir, `${name}.onnx`);
  writeFileSync(file, bytes);
  const session = await openSession(file, { graphOptimization: 'disabled' });
  await session.release();
}

const graphs = checkedKimiConfigs().flatMap((config, c) => PRECISIONS.flatMap((p) => generatedGraphs(config, p).map((g) => ({ ...g, label: `${c === 0 ? 'Kimi-VL-A3B' : 'tiny'} ${g.name}` }))));

describe('node signatures', () => {
  test.each(graphs.map((g) => [g.label, g] as const))('%s: onnxruntime infers the element types node-signatures.ts does for every node', async (label, g) => {
    const nodes = typedNodes(g.graph);
    expect(nodes.filter((n) => g.graph.nodes.includes(n.proto)).length).toBe(g.graph.nodes.length);
    await loads(declaredModel(g.graph), label.replace(/\W+/g, '-'));
  });

  test('a wrongly inferred type is refused, so the check above can fail', async () => {
    const g = graphs.find((x) => x.part === 'text' && x.precision === 'int4')!.graph;
    const qmoe = typedNodes(g).find((n) => n.opType === 'QMoE')!;
    expect(qmoe.outputs).toEqual(['float16']);
    await expect(loads(declaredModel(g, { value: qmoe.proto.outputs[0]!, type: DataType.FLOAT }), 'wrong')).rejects.toThrow(/Type Error: Type \(tensor\(float\)\) of output arg \(layers\.1\.mlp\.experts\) of node \(layers\.1\.mlp\.experts\) does not match expected type \(tensor\(float16\)\)/);
  });

  test('so is a wrong type inside a subgraph: a Loop body\'s scores declared fp16 in the fp32 graph', async () => {
    const g = graphs.find((x) => x.part === 'text' && x.precision === 'fp32')!.graph;
    const scores = typedNodes(g).find((n) => n.name === 'layers.0.attn.decompressed.attention.body.scores_part')!;
    expect(scores.outputs).toEqual(['float']);
    await expect(loads(declaredModel(g, { value: scores.proto.outputs[0]!, type: DataType.FLOAT16 }), 'wrong-subgraph')).rejects.toThrow(/layers\.0\.attn\.decompressed\.attention\.body\.scores_part/);
  });

  test('a signature names domain, op, opset and the element types in and out', () => {
    const g = graphs.find((x) => x.part === 'text' && x.precision === 'int4')!.graph;
    const keys = new Set(typedNodes(g).map(signatureKey));
    expect(keys).toContain('com.microsoft.QMoE@1(float16,float16,uint8,float16,-,uint8,float16)->(float16)');
    expect(keys).toContain('com.microsoft.GatherBlockQuantized@1(uint8,int64,float,uint8)->(float)');
    expect(keys).toContain('Greater@21(int64,int64)->(bool)');
  });
});
