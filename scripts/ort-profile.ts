/**
 * Turns an onnxruntime profile (written with KESTREL_ORT_PROFILE=<folder>) into a per-op table:
 * time per run by op type, its share, node count and the slowest node of each type (an If's or
 * Loop's own time, without the nodes of its subgraph, which are counted under their own types).
 * Runs are numbered from 0 in the order they ran; pick some with --runs (e.g. `2-` for all but
 * a warm-up and a prefill, `1` for the prefill alone). Session creation is listed separately.
 * Run: npx tsx scripts/ort-profile.ts <profile.json> [--runs 2-] [--top 20] [--markdown]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '0-' }, top: { type: 'string', default: '20' }, markdown: { type: 'boolean', default: false } },
});
if (positionals.length !== 1) {
  console.error('usage: npx tsx scripts/ort-profile.ts <profile.json> [--runs 2-] [--top 20] [--markdown]');
  process.exit(2);
}

interface TraceEvent {
  readonly cat: string;
  readonly name: string;
  readonly ts: number;
  readonly dur: number;
  readonly args?: { readonly op_name?: string; readonly provider?: string };
}

const events = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as TraceEvent[];
const [from, to] = (() => {
  const m = /^(\d+)(?:-(\d*))?$/.exec(args.runs);
  if (!m) {
    console.error(`--runs ${args.runs}: expected N, N- or N-M (run numbers from 0)`);
    process.exit(2);
  }
  return [Number(m[1]), m[2] === undefined ? Number(m[1]) : m[2] === '' ? Infinity : Number(m[2])];
})();

const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
const picked = runs.filter((_, i) => i >= from && i <= to);
if (picked.length === 0) {
  console.error(`the profile has ${runs.length} runs; --runs ${args.runs} picks none`);
  process.exit(2);
}
const within = (e: TraceEvent) => picked.some((r) => e.ts >= r.ts && e.ts + e.dur <= r.ts + r.dur);

interface Row {
  ms: number;
  nodes: Set<string>;
  slowest: { name: string; ms: number };
  provider: string;
}
// A control-flow node (If, Loop) runs its subgraph's nodes within its own span, and they are
// profiled too: each node counts only its own time, less that of the nodes nested in it.
const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && within(e)).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
const own = kernels.map((e) => e.dur);
const open: number[] = [];
kernels.forEach((e, i) => {
  while (open.length && kernels[open.at(-1)!]!.ts + kernels[open.at(-1)!]!.dur <= e.ts) open.pop();
  if (open.length) own[open.at(-1)!]! -= e.dur;
  open.push(i);
});
const byOp = new Map<string, Row>();
const perNode = new Map<string, number>();
kernels.forEach((e, i) => {
  const node = e.name.slice(0, -'_kernel_time'.length);
  const ms = own[i]! / 1000;
  perNode.set(node, (perNode.get(node) ?? 0) + ms);
  const op = e.args?.op_name ?? '?';
  const row = byOp.get(op) ?? { ms: 0, nodes: new Set(), slowest: { name: '', ms: 0 }, provider: e.args?.provider ?? '' };
  row.ms += ms;
  row.nodes.add(node);
  byOp.set(op, row);
});
for (const row of byOp.values()) {
  for (const node of row.nodes) {
    const ms = perNode.get(node)!;
    if (ms > row.slowest.ms) row.slowest = { name: node, ms };
  }
}

const n = picked.length;
const runMs = picked.reduce((s, r) => s + r.dur / 1000, 0) / n;
const kernelMs = [...byOp.values()].reduce((s, r) => s + r.ms, 0) / n;
const setup = events.filter((e) => e.cat === 'Session' && (e.name === 'model_loading_uri' || e.name === 'session_initialization'));
const rows = [...byOp.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(args.top));
const fmt = (ms: number) => ms.toFixed(ms < 10 ? 3 : 1);
console.log(`${positionals[0]}: runs ${from}–${Math.min(to, runs.length - 1)} of ${runs.length} (${n}); ${fmt(runMs)} ms per run, ${fmt(kernelMs)} ms of it in kernels (${(100 * kernelMs / runMs).toFixed(0)}%)`);
for (const e of setup) console.log(`  session: ${e.name} ${fmt(e.dur / 1000)} ms`);
const header = ['op', 'ms/run', 'share', 'nodes', 'slowest node (ms/run)'];
const lines = rows.map(([op, r]) => [op, fmt(r.ms / n), `${((100 * r.ms) / n / kernelMs).toFixed(1)}%`, String(r.nodes.size), `${r.slowest.name} (${fmt(r.slowest.ms / n)})`]);
if (args.markdown) {
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const l of lines) console.log(`| ${l.join(' | ')} |`);
} else {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const l of [header, ...lines]) console.log(l.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}
