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
import { encodeModel, type DataTypeCode, type NodeProto, type ValueInfo } from './onnx-proto.ts';
import { providerName, readPlacement, UNLISTED } from './placement.ts';

const CODES = new Map(Object.entries(ELEMENT_NAMES).map(([code, name]) => [name, Number(code) as DataTypeCode]));

function code(type: string): DataTypeCode {
  const c = CODES.get(type);
  if (c === undefined) throw new Error(`no ONNX element type named ${type}`);
  return c;
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
    return { ...n.proto, name: `probe.${i}`, inputs: ins, outputs: outs };
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
