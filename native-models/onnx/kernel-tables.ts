/**
 * Which kernels onnxruntime has for a node, from tables kept in kernels/ (scripts/kernel-tables.ts
 * regenerates them; docs/onnxruntime.md says where each comes from):
 *
 * - CUDA: the rows of onnxruntime's generated operator-kernel table
 *   (https://github.com/microsoft/onnxruntime/blob/main/docs/OperatorKernels.md) for the op types
 *   Kestrel's graphs use, at the opsets they import, cross-checked against the contributed-op
 *   registrations (onnxruntime/contrib_ops/cuda/cuda_contrib_kernels.cc there). No GPU is needed
 *   to check a graph against it.
 * - WebGPU: onnxruntime's docs have no such table, so the installed onnxruntime-node is asked:
 *   one node per signature Kestrel uses, placed by the WebGPU provider or not (kernel-probe.ts).
 *   test/integration/webgpu-placement.test.ts cross-checks it against whole graphs.
 */
import { readFileSync } from 'node:fs';
import { signatureKey, type NodeSignature } from './node-signatures.ts';

/** A formal parameter: `A:T` (a type constraint) or `shape:tensor(int64)` (a fixed type). */
export interface KernelParam {
  readonly name: string;
  readonly constraint: string;
}

export interface KernelSignature {
  readonly inputs: readonly KernelParam[];
  readonly outputs: readonly KernelParam[];
}

/** One row of the kernel table: an op's kernels over a range of opset versions. */
export interface KernelRow {
  /** '' for ai.onnx, as in a node. */
  readonly domain: string;
  readonly op: string;
  readonly since: number;
  /** null: open-ended (`14+`). */
  readonly until: number | null;
  /** The op schema's parameter lists (more than one where the schema changed over versions). */
  readonly signatures: readonly KernelSignature[];
  /** Allowed types per constraint, as the table spells them: `tensor(float)`. */
  readonly types: Readonly<Record<string, readonly string[]>>;
}

export interface UpstreamFile {
  readonly repo: string;
  readonly path: string;
  readonly commit: string;
}

export interface CudaKernelTable {
  readonly provider: 'CUDAExecutionProvider';
  /** The onnxruntime release the table stands for. */
  readonly onnxruntime: string;
  readonly sources: readonly UpstreamFile[];
  readonly note: string;
  readonly kernels: readonly KernelRow[];
}

export interface WebGpuKernelTable {
  readonly provider: 'WebGpuExecutionProvider';
  /** The onnxruntime-node version that was probed. */
  readonly onnxruntime: string;
  readonly note: string;
  /** signatureKey → whether the WebGPU provider took the node. */
  readonly signatures: Readonly<Record<string, boolean>>;
}

const ONNX_DOMAIN = 'ai.onnx';

function parseVersions(cell: string): { since: number; until: number | null } {
  const open = /^(\d+)\+$/.exec(cell);
  if (open) return { since: Number(open[1]), until: null };
  const range = /^\[(\d+),\s*(\d+)\]$/.exec(cell);
  if (range) return { since: Number(range[1]), until: Number(range[2]) };
  if (/^\d+$/.test(cell)) return { since: Number(cell), until: Number(cell) };
  throw new Error(`unreadable opset version cell '${cell}'`);
}

function parseSignatures(cell: string): KernelSignature[] {
  return cell.split('<br><br>or<br><br>').map((variant) => {
    const inputs: KernelParam[] = [];
    const outputs: KernelParam[] = [];
    for (const m of variant.matchAll(/\*(in|out)\* ([^:]+):\*\*([^*]+)\*\*/g)) (m[1] === 'in' ? inputs : outputs).push({ name: m[2]!.trim(), constraint: m[3]! });
    return { inputs, outputs };
  });
}

function parseTypes(cell: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of cell.split('<br/>')) {
    const m = /\*\*([^*]+)\*\* = (.+)$/.exec(part.trim());
    if (m) out[m[1]!] = m[2]!.split(/,\s*/).map((t) => t.trim());
  }
  return out;
}

/**
 * The rows of one provider's section of onnxruntime's operator-kernel table, for the ops in `wanted`
 * (`domain/op`, domain '' for ai.onnx) whose version range holds the opset in `opsets`.
 */
export function parseOperatorKernels(markdown: string, provider: string, wanted: ReadonlySet<string>, opsets: Readonly<Record<string, number>>): KernelRow[] {
  const rows: KernelRow[] = [];
  let inSection = false;
  let domain = '';
  let current: { op: string; signatures: KernelSignature[] } | undefined;
  for (const line of markdown.split('\n')) {
    const heading = /^## Operators implemented by (\w+)/.exec(line);
    if (heading) {
      inSection = heading[1] === provider;
      continue;
    }
    if (!inSection || !line.startsWith('|')) continue;
    const domainRow = /^\|\*\*Operator Domain:\*\* \*([\w.]+)\*/.exec(line);
    if (domainRow) {
      domain = domainRow[1] === ONNX_DOMAIN ? '' : domainRow[1]!;
      current = undefined;
      continue;
    }
    const cells = line.split('|').slice(1, -1);
    if (cells.length !== 4 || cells[2] === 'OpSet Version' || /^-+$/.test(cells[0]!)) continue;
    if (cells[0]) current = { op: cells[0], signatures: parseSignatures(cells[1]!) };
    if (!current || !wanted.has(`${domain}/${current.op}`)) continue;
    const versions = parseVersions(cells[2]!);
    const opset = opsets[domain];
    if (opset === undefined || opset < versions.since || (versions.until !== null && opset > versions.until)) continue;
    rows.push({ domain, op: current.op, ...versions, signatures: current.signatures, types: parseTypes(cells[3]!) });
  }
  if (rows.length === 0) throw new Error(`no rows for ${provider} found: is this onnxruntime's docs/OperatorKernels.md?`);
  return rows;
}

/** onnxruntime's C++ type names in kernel class names, as ONNX element types. */
const CPP_TYPES: Readonly<Record<string, string>> = {
  float: 'float',
  double: 'double',
  MLFloat16: 'float16',
  BFloat16: 'bfloat16',
  uint8_t: 'uint8',
  int8_t: 'int8',
  int32_t: 'int32',
  int64_t: 'int64',
  UInt4x2: 'uint4',
  Int4x2: 'int4',
};

/** The main (first) type of a kernel class's type argument: `MLFloat16_int8_t` → float16. */
function mainType(arg: string): string {
  const known = Object.keys(CPP_TYPES).filter((t) => arg === t || arg.startsWith(`${t}_`)).sort((a, b) => b.length - a.length)[0];
  return known ? CPP_TYPES[known]! : arg;
}

/** The main type of each kernel class a contrib registration file declares, by op. */
export function parseContribRegistrations(source: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of source.matchAll(/^class CUDA_MS_OP_(\w*?)CLASS_NAME\(([^)]*)\);/gm)) {
    const args = m[2]!.split(',').map((a) => a.trim());
    const op = args.pop()!;
    // Versioned names carry two versions, the others one; type arguments follow.
    const typeArgs = args.slice(m[1]!.startsWith('VERSIONED') ? 2 : 1);
    const types = out.get(op) ?? new Set<string>();
    if (typeArgs[0]) types.add(mainType(typeArgs[0]));
    out.set(op, types);
  }
  return out;
}

/**
 * Disagreements between the doc's contributed-op rows and the registrations: an op the doc lists
 * that the registration file does not declare, or whose first constraint's types differ.
 */
export function crossCheckContrib(rows: readonly KernelRow[], registrations: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const problems: string[] = [];
  for (const row of rows.filter((r) => r.domain === 'com.microsoft')) {
    const registered = registrations.get(row.op);
    if (!registered) {
      problems.push(`${row.op}: in the doc, not registered in the contrib kernels file`);
      continue;
    }
    const constraint = row.signatures[0]?.inputs[0]?.constraint;
    const documented = new Set((row.types[constraint ?? ''] ?? []).map((t) => t.replace(/^tensor\((.*)\)$/, '$1')));
    const same = documented.size === registered.size && [...documented].every((t) => registered.has(t));
    if (!same) problems.push(`${row.op}: the doc allows ${[...documented].sort().join(', ')} for ${constraint}, the registrations ${[...registered].sort().join(', ')}`);
  }
  return problems;
}

function constraintTypes(row: KernelRow, constraint: string): readonly string[] | undefined {
  if (/^tensor\(/.test(constraint)) return [constraint];
  return row.types[constraint];
}

/** The parameter a node's i-th input or output binds to; the last one repeats (variadic). */
function paramAt(params: readonly KernelParam[], i: number): KernelParam | undefined {
  return params[i] ?? (params.length ? params[params.length - 1] : undefined);
}

/** Why a parameter list does not take the node's types under this row, or undefined. */
function variantMismatch(row: KernelRow, variant: KernelSignature, node: NodeSignature): string | undefined {
  const bound = new Map<string, string>();
  const check = (params: readonly KernelParam[], types: readonly (string | null)[], side: string): string | undefined => {
    for (const [i, type] of types.entries()) {
      if (type === null) continue;
      const param = paramAt(params, i);
      if (!param) return `${side} ${i} has no parameter`;
      const allowed = constraintTypes(row, param.constraint);
      if (allowed && !allowed.includes(`tensor(${type})`)) return `${side} ${param.name} is ${type}; ${param.constraint} allows ${allowed.map((t) => t.replace(/^tensor\((.*)\)$/, '$1')).join(', ')}`;
      const earlier = bound.get(param.constraint);
      if (!/^tensor\(/.test(param.constraint) && earlier && earlier !== type) return `${param.constraint} is bound to both ${earlier} and ${type}`;
      bound.set(param.constraint, type);
    }
    return undefined;
  };
  return check(variant.inputs, node.inputs, 'input') ?? check(variant.outputs, node.outputs, 'output');
}

/**
 * Why this row's kernels do not take the node's types, or undefined when they do. The table does
 * not say which of an op's parameter lists goes with which versions, so any list whose
 * constraints the row names will do (Identity's newest rows name V, not T).
 */
function rowMismatch(row: KernelRow, node: NodeSignature): string | undefined {
  const named = row.signatures.filter((s) => [...s.inputs, ...s.outputs].every((p) => /^tensor\(/.test(p.constraint) || p.constraint in row.types));
  const reasons = (named.length ? named : row.signatures).map((v) => variantMismatch(row, v, node));
  return reasons.includes(undefined) ? undefined : reasons[0] ?? `no parameter list for ${row.op}`;
}

/** Why the CUDA provider has no kernel for the node, or undefined when it has one. */
export function missingCudaKernel(table: CudaKernelTable, node: NodeSignature): string | undefined {
  const rows = table.kernels.filter((r) => r.domain === node.domain && r.op === node.opType && node.opset >= r.since && (r.until === null || node.opset <= r.until));
  if (rows.length === 0) return `no CUDA kernel for ${node.domain ? `${node.domain}.` : ''}${node.opType} at opset ${node.opset}`;
  const reasons = rows.map((r) => rowMismatch(r, node));
  return reasons.includes(undefined) ? undefined : reasons.join('; ');
}

/** Whether the WebGPU provider took a node of this signature; undefined when it was not probed. */
export function webGpuHasKernel(table: WebGpuKernelTable, node: NodeSignature): boolean | undefined {
  return table.signatures[signatureKey(node)];
}

const KERNELS_DIR = new URL('./kernels/', import.meta.url);

export function loadCudaKernelTable(): CudaKernelTable {
  return JSON.parse(readFileSync(new URL('cuda.json', KERNELS_DIR), 'utf8')) as CudaKernelTable;
}

export function loadWebGpuKernelTable(): WebGpuKernelTable {
  return JSON.parse(readFileSync(new URL('webgpu.json', KERNELS_DIR), 'utf8')) as WebGpuKernelTable;
}

export const KERNEL_TABLE_FILES = { cuda: new URL('cuda.json', KERNELS_DIR), webgpu: new URL('webgpu.json', KERNELS_DIR) } as const;
