/**
 * What a node placement means for Kimi-VL: which nodes left on the CPU are heavy (a matrix
 * product, the experts, attention, the embedding lookup, or any node of a vision block), and
 * the documented exception — the experts under WebGPU: fp32/fp16's com.microsoft.MoE has no
 * WebGPU kernel, and int4's QMoE is kept on the CPU by the session (modeling-text.ts
 * routedExpertNodes; precision.ts notes both at import and load). Light nodes on the CPU are expected:
 * onnxruntime keeps small int64 position and shape computations there.
 */
import type { ExecutionDevice } from '../../../onnx/device.ts';
import { CPU_PROVIDER, UNLISTED, type PlacedNode, type Placement } from '../../../onnx/placement.ts';
import type { Precision } from '../graphs/modeling-text.ts';

/** `unlisted`: onnxruntime put every node on the CPU and named none, so none can be cleared. */
export type HeavyKind = 'matrix product' | 'experts' | 'attention' | 'embedding lookup' | 'vision block' | 'unlisted';

const HEAVY_OPS: Readonly<Record<string, HeavyKind>> = {
  MatMul: 'matrix product',
  Gemm: 'matrix product',
  FusedMatMul: 'matrix product',
  MatMulNBits: 'matrix product',
  MoE: 'experts',
  QMoE: 'experts',
  MultiHeadAttention: 'attention',
  GroupQueryAttention: 'attention',
  Attention: 'attention',
  Softmax: 'attention',
  Gather: 'embedding lookup',
  GatherBlockQuantized: 'embedding lookup',
};

/** A node of a MoonViT block, also where onnxruntime inserted it (`InsertedPrecisionFreeCast_blocks.3…`). */
const VISION_BLOCK = /(^|_)blocks\.\d+\./;

/**
 * Never heavy: control flow (the attention's block Loop has no WebGPU kernel; the nodes of its
 * body are placed, and checked, one by one) and the attention's int64 bookkeeping, named
 * `….plan.…` (onnx/attention.ts).
 */
const CONTROL_FLOW = new Set(['Loop', 'If']);
const BOOKKEEPING = /\.plan\./;

export function heavyKind(node: Pick<PlacedNode, 'opType' | 'name'>, part: 'text' | 'vision'): HeavyKind | undefined {
  if (node.opType === UNLISTED) return 'unlisted';
  if (CONTROL_FLOW.has(node.opType) || BOOKKEEPING.test(node.name)) return undefined;
  if (part === 'vision' && VISION_BLOCK.test(node.name)) return 'vision block';
  return HEAVY_OPS[node.opType];
}

/** Why a heavy node on the CPU is accepted here, or undefined when it is a defect. */
export function documentedFallback(node: Pick<PlacedNode, 'opType'>, precision: Precision, device: ExecutionDevice): string | undefined {
  if (device !== 'webgpu') return undefined;
  if (node.opType === 'MoE' && precision !== 'int4') return `${precision} experts use com.microsoft.MoE, which has no WebGPU kernel`;
  if (node.opType === 'QMoE' && precision === 'int4') return "int4 experts: onnxruntime 1.30's WebGPU QMoE is wrong at random for more than one token, so Kestrel runs them on the CPU";
  return undefined;
}

export interface PlacementSummary {
  readonly total: number;
  readonly onCpu: readonly PlacedNode[];
  /** Heavy nodes on the CPU, each with the documented reason where there is one. */
  readonly heavyOnCpu: readonly { readonly node: PlacedNode; readonly kind: HeavyKind; readonly accepted?: string }[];
}

export function summarizePlacement(placement: Placement, part: 'text' | 'vision', precision: Precision): PlacementSummary {
  const onCpu = placement.device === 'cpu' ? [] : placement.nodes.filter((n) => n.provider === CPU_PROVIDER);
  const heavyOnCpu = onCpu.flatMap((node) => {
    const kind = heavyKind(node, part);
    if (!kind) return [];
    const accepted = documentedFallback(node, precision, placement.device);
    return [{ node, kind, ...(accepted ? { accepted } : {}) }];
  });
  return { total: placement.nodes.length, onCpu, heavyOnCpu };
}

/** `Cast ×4, MoE ×2, Range ×2`: op types and how many of each. */
export function countOpTypes(nodes: readonly Pick<PlacedNode, 'opType'>[]): string {
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([op, n]) => (n > 1 ? `${op} ×${n}` : op)).join(', ');
}
