/**
 * Regenerates the kernel tables in native-models/onnx/kernels/ (docs/onnxruntime.md):
 *
 *   npx tsx scripts/kernel-tables.ts cuda --operator-kernels KERNEL_TABLE --contrib CONTRIB_CC \
 *     --commit <sha> --contrib-commit <sha>
 *     From onnxruntime's generated kernel table and CUDA contrib registrations at the given
 *     commits — https://github.com/microsoft/onnxruntime/blob/<sha>/docs/OperatorKernels.md and
 *     https://github.com/microsoft/onnxruntime/blob/<sha>/onnxruntime/contrib_ops/cuda/cuda_contrib_kernels.cc,
 *     downloaded first: the CUDA rows for the op types Kestrel's graphs use,
 *     at the opsets they import; fails when the contributed-op rows and registrations disagree.
 *
 *   npx tsx scripts/kernel-tables.ts webgpu
 *     Asks this machine's onnxruntime-node, on a WebGPU adapter (lavapipe will do; set
 *     XDG_RUNTIME_DIR to a private folder), which of the node signatures Kestrel's graphs use its
 *     WebGPU provider takes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generatedNodes } from '../native-models/models/kimi-vl/graphs/generated-graphs.ts';
import { probeKernels } from '../native-models/onnx/kernel-probe.ts';
import { crossCheckContrib, KERNEL_TABLE_FILES, parseContribRegistrations, parseOperatorKernels, type CudaKernelTable, type WebGpuKernelTable } from '../native-models/onnx/kernel-tables.ts';
import { OPSETS } from '../native-models/onnx/model-writer.ts';
import { distinctSignatures } from '../native-models/onnx/node-signatures.ts';
import { checkedKimiConfigs } from '../test/harness/kimi-configs.ts';

const REPO = 'microsoft/onnxruntime';
const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: { 'operator-kernels': { type: 'string' }, contrib: { type: 'string' }, commit: { type: 'string' }, 'contrib-commit': { type: 'string' }, onnxruntime: { type: 'string', default: '1.30.0' } },
});
const nodes = generatedNodes(checkedKimiConfigs());
/** Pretty at the top, one line per kernel row or signature, so a regeneration diffs by row. */
function format(table: CudaKernelTable | WebGpuKernelTable): string {
  const rows = 'kernels' in table ? table.kernels.map((k) => JSON.stringify(k)) : Object.entries(table.signatures).map(([k, v]) => `${JSON.stringify(k)}: ${v}`);
  const key = 'kernels' in table ? 'kernels' : 'signatures';
  const head = JSON.stringify({ ...table, [key]: null }, null, 2).replace(/\n}$/, '');
  const [open, close] = key === 'kernels' ? ['[', ']'] : ['{', '}'];
  return `${head.replace(`"${key}": null`, `"${key}": ${open}\n    ${rows.join(',\n    ')}\n  ${close}`)}\n}\n`;
}

const write = (file: URL, table: CudaKernelTable | WebGpuKernelTable) => {
  writeFileSync(file, format(table));
  console.log(`wrote ${fileURLToPath(file)}`);
};

if (positionals[0] === 'cuda') {
  const docs = args['operator-kernels'];
  const contrib = args.contrib;
  if (!docs || !contrib || !args.commit || !args['contrib-commit']) {
    console.error('usage: kernel-tables.ts cuda --operator-kernels FILE --contrib FILE --commit SHA --contrib-commit SHA');
    process.exit(2);
  }
  const wanted = new Set(nodes.map((n) => `${n.domain}/${n.opType}`));
  const opsets = Object.fromEntries(OPSETS.map((o) => [o.domain, o.version]));
  const kernels = parseOperatorKernels(readFileSync(docs, 'utf8'), 'CUDAExecutionProvider', wanted, opsets);
  const missing = [...wanted].filter((w) => !kernels.some((k) => `${k.domain}/${k.op}` === w));
  const problems = crossCheckContrib(kernels, parseContribRegistrations(readFileSync(contrib, 'utf8')));
  if (problems.length) {
    console.error(`the doc and the contrib registrations disagree:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  const table: CudaKernelTable = {
    provider: 'CUDAExecutionProvider',
    onnxruntime: args.onnxruntime!,
    sources: [
      { repo: REPO, path: 'docs/OperatorKernels.md', commit: args.commit },
      { repo: REPO, path: 'onnxruntime/contrib_ops/cuda/cuda_contrib_kernels.cc', commit: args['contrib-commit'] },
    ],
    note: `Rows for the op types Kestrel's graphs use, at opsets ${OPSETS.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(' and ')}; written by scripts/kernel-tables.ts.${missing.length ? ` No CUDA kernel at all: ${missing.join(', ')}.` : ''}`,
    kernels,
  };
  write(KERNEL_TABLE_FILES.cuda, table);
} else if (positionals[0] === 'webgpu') {
  const { version } = JSON.parse(readFileSync(new URL('../node_modules/onnxruntime-node/package.json', import.meta.url), 'utf8')) as { version: string };
  const signatures = distinctSignatures(nodes);
  const taken = await probeKernels('webgpu', [...signatures.values()]);
  const table: WebGpuKernelTable = {
    provider: 'WebGpuExecutionProvider',
    onnxruntime: version,
    note: 'Each node signature of Kestrel\'s graphs, placed alone (no optimisation) on onnxruntime-node\'s WebGPU provider: true where the provider took it; written by scripts/kernel-tables.ts webgpu.',
    signatures: Object.fromEntries([...taken].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  write(KERNEL_TABLE_FILES.webgpu, table);
  console.log(`${[...taken.values()].filter(Boolean).length} of ${taken.size} signatures have a WebGPU kernel`);
} else {
  console.error('usage: kernel-tables.ts cuda|webgpu … (see the comment at the top of this file)');
  process.exit(2);
}
