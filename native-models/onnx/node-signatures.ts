/**
 * Every node of a built graph with what decides which kernel onnxruntime picks for it: domain,
 * op type, the opset the model imports for that domain, and the element type of each input and
 * output. The types are inferred here from the graph's inputs, initializers and a small rule per
 * op type; node-signatures.test.ts has onnxruntime itself confirm them (a model declaring every
 * value with the type inferred here must load), so a wrong rule cannot hide.
 */
import type { GraphBuilder } from './graph-builder.ts';
import { OPSETS } from './model-writer.ts';
import { DataType, type DataTypeCode, type GraphProto, type NodeProto } from './onnx-proto.ts';

/** ONNX's names for the element types (as onnxruntime's kernel tables spell them). */
export const ELEMENT_NAMES: Readonly<Record<DataTypeCode, string>> = {
  [DataType.FLOAT]: 'float',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
  [DataType.BFLOAT16]: 'bfloat16',
};

export interface NodeSignature {
  readonly domain: string;
  readonly opType: string;
  /** The model's opset for the node's domain. */
  readonly opset: number;
  /** Element type per input position; null where an optional input is left out. */
  readonly inputs: readonly (string | null)[];
  readonly outputs: readonly string[];
}

export interface TypedNode extends NodeSignature {
  readonly name: string;
  /** The node as built (its attributes, for a probe model). */
  readonly proto: NodeProto;
}

/** One line per signature: `com.microsoft.QMoE@1(float16,float16,uint8,…)->(float16)`. */
export function signatureKey(s: NodeSignature): string {
  const domain = s.domain ? `${s.domain}.` : '';
  return `${domain}${s.opType}@${s.opset}(${s.inputs.map((t) => t ?? '-').join(',')})->(${s.outputs.join(',')})`;
}

type Rule = (inputs: readonly (DataTypeCode | undefined)[], node: NodeProto) => DataTypeCode[];

const first: Rule = (inputs, node) => node.outputs.map(() => required(inputs[0], node, 0));
const fixed = (type: DataTypeCode): Rule => (_, node) => node.outputs.map(() => type);
const input = (i: number): Rule => (inputs, node) => [required(inputs[i], node, i)];

function required(type: DataTypeCode | undefined, node: NodeProto, i: number): DataTypeCode {
  if (type === undefined) throw new Error(`node ${node.name}: input ${i} has no known element type`);
  return type;
}

/** Output element types by op type; `domain/opType` for contributed ops. */
const RULES: Readonly<Record<string, Rule>> = {
  // Same type as the first input (elementwise, shape moves, reductions, products, normalisation).
  ...Object.fromEntries(
    ['Add', 'Sub', 'Mul', 'Div', 'Neg', 'Sqrt', 'Log', 'Sin', 'Cos', 'Sigmoid', 'Gelu', 'Softmax', 'Identity', 'Reshape', 'Transpose', 'Concat', 'Split', 'Squeeze', 'Unsqueeze', 'Slice', 'Expand', 'Gather', 'GatherElements', 'ScatterND', 'ScatterElements', 'ReduceMean', 'ReduceSum', 'MatMul', 'Gemm', 'LayerNormalization', 'Range', 'Max', 'Min', 'Pad'].map((op) => [op, first]),
  ),
  Cast: (_, node) => {
    const to = node.attributes.find((a) => a.name === 'to');
    if (to?.kind !== 'int') throw new Error(`node ${node.name}: Cast without an integer 'to'`);
    return [Number(to.value) as DataTypeCode];
  },
  Shape: fixed(DataType.INT64),
  Greater: fixed(DataType.BOOL),
  GreaterOrEqual: fixed(DataType.BOOL),
  Where: input(1),
  TopK: (inputs, node) => [required(inputs[0], node, 0), DataType.INT64],
  'com.microsoft/MatMulNBits': first,
  'com.microsoft/MultiHeadAttention': first,
  'com.microsoft/MoE': first,
  'com.microsoft/QMoE': first,
  // Dequantises into the scales' type.
  'com.microsoft/GatherBlockQuantized': input(2),
};

function opsetOf(domain: string): number {
  const opset = OPSETS.find((o) => o.domain === domain);
  if (!opset) throw new Error(`no opset imported for domain '${domain}'`);
  return opset.version;
}

/**
 * The graph's nodes in order, each with its signature; a control-flow node (If, Loop) is
 * followed by the nodes of its subgraphs, which see the values around them.
 */
export function typedNodes(g: GraphBuilder): TypedNode[] {
  const types = new Map<string, DataTypeCode>();
  for (const v of g.inputs) types.set(v.name, v.elemType);
  for (const c of g.constants) types.set(c.name, c.dataType);
  for (const w of g.weights) types.set(w.name, w.dataType);
  return typeNodes(g.nodes, types);
}

function typeNodes(nodes: readonly NodeProto[], types: Map<string, DataTypeCode>): TypedNode[] {
  return nodes.flatMap((node) => {
    const domain = node.domain ?? '';
    const inner: TypedNode[] = [];
    const subgraphOutputs = new Map<string, DataTypeCode[]>();
    for (const a of node.attributes) {
      if (a.kind !== 'graph') continue;
      const scope = scoped(types, a.value);
      inner.push(...typeNodes(a.value.nodes, scope));
      subgraphOutputs.set(a.name, a.value.outputs.map((o) => required(scope.get(o.name), node, 0)));
    }
    const rule = CONTROL_FLOW[node.opType] ?? RULES[domain ? `${domain}/${node.opType}` : node.opType];
    if (!rule) throw new Error(`node ${node.name}: no element-type rule for ${domain ? `${domain}.` : ''}${node.opType}; add one to node-signatures.ts`);
    const ins = node.inputs.map((name) => (name === '' ? undefined : types.get(name)));
    node.inputs.forEach((name, i) => {
      if (name !== '' && ins[i] === undefined) throw new Error(`node ${node.name}: input '${name}' is not defined before it`);
    });
    const outs = rule(ins, node, subgraphOutputs);
    node.outputs.forEach((name, i) => types.set(name, outs[i]!));
    const typed: TypedNode = {
      name: node.name,
      proto: node,
      domain,
      opType: node.opType,
      opset: opsetOf(domain),
      inputs: ins.map((t) => (t === undefined ? null : ELEMENT_NAMES[t])),
      outputs: outs.map((t) => ELEMENT_NAMES[t]),
    };
    return [typed, ...inner];
  });
}

/** The types a subgraph sees: the values around it, then its own inputs and initializers. */
function scoped(outer: ReadonlyMap<string, DataTypeCode>, graph: GraphProto): Map<string, DataTypeCode> {
  const scope = new Map(outer);
  for (const v of graph.inputs) scope.set(v.name, v.elemType);
  for (const c of graph.initializers) scope.set(c.name, c.dataType);
  return scope;
}

/** Control flow takes its output types from its subgraphs: If from its branches, Loop from its body after the condition. */
const CONTROL_FLOW: Readonly<Record<string, (inputs: readonly (DataTypeCode | undefined)[], node: NodeProto, subgraphs: ReadonlyMap<string, DataTypeCode[]>) => DataTypeCode[]>> = {
  If: (_, node, subgraphs) => subgraphs.get('then_branch') ?? fail(node, 'an If without then_branch'),
  Loop: (_, node, subgraphs) => (subgraphs.get('body') ?? fail(node, 'a Loop without body')).slice(1),
};

function fail(node: NodeProto, what: string): never {
  throw new Error(`node ${node.name}: ${what}`);
}

/** Each distinct signature once, with the first node showing it. */
export function distinctSignatures<N extends TypedNode>(nodes: readonly N[]): Map<string, N> {
  const out = new Map<string, N>();
  for (const n of nodes) if (!out.has(signatureKey(n))) out.set(signatureKey(n), n);
  return out;
}
