import { formatBytes, type Device, type DevicePlacement, type ModelInfo, type PlacementSummary } from '../../native-models/index.ts';
import { countOpTypes, devicePlacement, modelInfo, readModelFolder } from '../../native-models/runtime.ts';

function placementLine(part: string, s: PlacementSummary, device: string): string {
  if (device === 'cpu') return `${part} graph: ${s.total} nodes, all on the CPU`;
  if (s.onCpu.length === 0) return `${part} graph: ${s.total} nodes, none on the CPU`;
  // Heavy ones grouped by op type and reason: `MoE ×26 (…)`.
  const groups = new Map<string, number>();
  for (const h of s.heavyOnCpu) {
    const key = `${h.node.opType}\u0000${h.accepted ?? 'should not be on the CPU'}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const heavy = [...groups].map(([key, n]) => {
    const [op, why] = key.split('\u0000');
    return `${op}${n > 1 ? ` ×${n}` : ''} (${why})`;
  });
  return `${part} graph: ${s.total} nodes, ${s.onCpu.length} on the CPU: ${countOpTypes(s.onCpu)}${heavy.length ? `; heavy: ${heavy.join('; ')}` : ''}`;
}

/** How the checkpoint's files are identified: `SHA-256 of 2 hashed, 1 from Hugging Face cache names` or the like. */
function sourceLine({ dir, files, bytes, sha256 }: ModelInfo['source']): string {
  const ways = [
    sha256.hashed ? `${sha256.hashed} hashed` : '',
    sha256['hf-cache-name'] ? `${sha256['hf-cache-name']} from their Hugging Face cache names` : '',
    sha256['not hashed'] ? `${sha256['not hashed']} not hashed (size and modification time recorded; \`kestrel model import --hash-source\` hashes them)` : '',
  ].filter(Boolean);
  return `${dir}, ${files} file${files === 1 ? '' : 's'} (${formatBytes(bytes)}); SHA-256: ${ways.join(', ')}`;
}

function describe(info: ModelInfo, placement?: DevicePlacement): string[] {
  const lines = [
    `model:      ${info.dir}`,
    `precision:  ${info.precision} (imported ${info.createdAt})`,
    `source:     ${sourceLine(info.source)}`,
    `weights:    ${formatBytes(info.weights.text + info.weights.vision)} — language model ${formatBytes(info.weights.text)}, vision tower + projector ${formatBytes(info.weights.vision)}`,
    `context:    ${info.contextLength} tokens (max_position_embeddings); ${info.layers} layers, vocabulary ${info.vocabSize}`,
    `KV cache:   ${info.cache.type}, ${info.cache.valuesPerToken} values per token (${formatBytes(info.cache.bytesPerToken)}); ${formatBytes(info.cache.bytesAtContext)} at the full context`,
  ];
  if (!placement) return [...lines, 'placement:  give --device cpu|cuda|webgpu|auto to see which nodes fall back to the CPU (opens the model on that device)'];
  const indent = ' '.repeat(12);
  return [...lines, `on ${placement.device}:`.padEnd(12) + placementLine('text', placement.text, placement.device), indent + placementLine('vision', placement.vision, placement.device)];
}

export async function runInfo(dir: string, opts: { device?: Device; json?: boolean }): Promise<void> {
  const folder = readModelFolder(dir);
  const info = modelInfo(folder);
  const placement = opts.device ? await devicePlacement(folder, opts.device) : undefined;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...info, ...(placement ? { placement } : {}) })}\n`);
    return;
  }
  process.stdout.write(`${describe(info, placement).join('\n')}\n`);
}
