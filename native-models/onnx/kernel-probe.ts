/**
 * Asks the installed onnxruntime which of a set of node signatures a provider has kernels for:
 * one model holding one unconnected node per signature (its inputs graph inputs of the node's
 * types, nothing fused or folded), opened on the device, and the placement read back. A node
 * the provider took has a kernel there; one left to the CPU has none at those types.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionDevice } from './device.ts';
import { IR_VERSION, OPSETS } from './model-writer.ts';
import { ELEMENT_NAMES, signatureKey, type TypedNode } from './node-signatures.ts';
import { encodeModel, type Attribute, type DataTypeCode, type GraphProto, type NodeProto, type ValueInfo } from './onnx-proto.ts';
import { providerName, readPlacement, UNLISTED } from './placement.ts';

const CODES = new Map(Object.entries(ELEMENT_NAMES).map(([code, name]) => [name, Number(code) as DataTypeCode]));

function code(type: string): DataTypeCode {
  const c = CODES.get(type);
  if (c === undefined) throw new Error(`no ONNX element type named ${type}`);
  return c;
}

/**
 * A control-flow node's subgraph replaced by one of the same signature whose outputs are
 * Identity copies of new graph inputs: whether a provider has an If or Loop kernel does not
 * depend on what its branches compute, and the real ones read values the probe does not have.
 */
function standIn(a: Attribute & { kind: 'graph' }, i: number, inputs: ValueInfo[]): Attribute {
  const p = `probe.${i}.${a.name}`;
  const outputs = a.value.outputs.map((o, k) => ({ name: `${p}.out${k}`, elemType: o.elemType }));
  const nodes: NodeProto[] = outputs.map((o, k) => {
    inputs.push({ name: `${p}.from${k}`, elemType: o.elemType });
    return { name: `${p}.copy${k}`, opType: 'Identity', inputs: [`${p}.from${k}`], outputs: [o.name], attributes: [] };
  });
  const graph: GraphProto = { name: p, nodes, initializers: [], inputs: a.value.inputs.map((v, j) => ({ ...v, name: `${p}.in${j}` })), outputs };
  return { ...a, value: graph };
}

/** The probe model: node i is `probe.i`, fed by graph inputs, its outputs graph outputs. */
export function probeModel(nodes: readonly TypedNode[]): Uint8Array {
  const inputs: ValueInfo[] = [];
  const outputs: ValueInfo[] = [];
  const probes: NodeProto[] = nodes.map((n, i) => {
    const ins = n.inputs.map((type, j) => {
      if (type === null) return '';
      inputs.push({ name: `probe.${i}.in${j}`, elemType: code(type) });
      return `probe.${i}.in${j}`;
    });
    const outs = n.outputs.map((type, k) => {
      outputs.push({ name: `probe.${i}.out${k}`, elemType: code(type) });
      return `probe.${i}.out${k}`;
    });
    const attributes = n.proto.attributes.map((a) => (a.kind === 'graph' ? standIn(a, i, inputs) : a));
    return { ...n.proto, name: `probe.${i}`, inputs: ins, outputs: outs, attributes };
  });
  return encodeModel({ irVersion: IR_VERSION, opsets: OPSETS, producerName: 'kestrel', producerVersion: '0.1.0', graph: { name: 'kernel-probe', nodes: probes, initializers: [], inputs, outputs } });
}

/** signatureKey → whether `device`'s provider took a node of that signature. */
export async function probeKernels(device: ExecutionDevice, nodes: readonly TypedNode[]): Promise<Map<string, boolean>> {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-probe-'));
  try {
    const file = join(dir, 'probe.onnx');
    writeFileSync(file, probeModel(nodes));
    const placement = await readPlacement(file, device, { optimization: 'disabled' });
    const provider = providerName(device);
    const byName = new Map(placement.nodes.map((p) => [p.name, p.provider]));
    const all = placement.nodes.every((p) => p.name === UNLISTED) ? placement.nodes[0]?.provider : undefined;
    return new Map(nodes.map((n, i) => [signatureKey(n), (all ?? byName.get(`probe.${i}`)) === provider]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
