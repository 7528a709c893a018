/**
 * The reply parser on large and hostile replies: each shape at 256 KiB and at 1 MiB, beside one
 * native pass over the same text (`replace(/\s+/g, ' ')`, the floor for reading a reply at all).
 * Linear work grows 4× from 256 KiB to 1 MiB; quadratic work grows 16× (a reply of `## Action:`
 * and 300,000 line breaks took tens of seconds before the parser was made linear).
 * Target: every shape at 1 MiB in under 50 ms.
 * Run: npx tsx scripts/bench-parser.ts [runs]
 */
import { parseKimiResponse } from '../agent/parser/index.ts';
import { HOSTILE_REPLIES } from '../agent/testing/hostile-replies.ts';
import { median } from './stats.ts';

const runs = Number(process.argv[2] ?? 7);
const KIB = 1024;

/**
 * Median CPU time of each task (this process's, so other work on a shared machine counts less than
 * in wall time), the tasks interleaved round by round so background load hits all alike.
 */
function medians(tasks: Array<() => unknown>): number[] {
  for (const task of tasks) task(); // warm-up
  const times = tasks.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [t, task] of tasks.entries()) {
      const start = process.cpuUsage();
      task();
      const used = process.cpuUsage(start);
      times[t]!.push((used.user + used.system) / 1000);
    }
  }
  return times.map(median);
}

console.log(`CPU time, median of ${runs} runs; floor = one native whitespace pass over the same 1 MiB`);
console.log(`${'shape'.padEnd(18)} ${'256 KiB'.padStart(9)} ${'1 MiB'.padStart(9)} ${'growth'.padStart(7)} ${'× floor'.padStart(8)}  result`);
let worst = 0;
for (const [name, make] of Object.entries(HOSTILE_REPLIES)) {
  const small = make(256 * KIB);
  const large = make(1024 * KIB);
  const [a, b, floor] = medians([() => parseKimiResponse(small), () => parseKimiResponse(large), () => large.replace(/\s+/g, ' ')]) as [number, number, number];
  worst = Math.max(worst, b);
  const result = parseKimiResponse(large);
  const said = result.ok ? `${result.actions.length} actions` : result.error.slice(0, 50);
  console.log(`${name.padEnd(18)} ${a.toFixed(1).padStart(6)} ms ${b.toFixed(1).padStart(6)} ms ${(b / a).toFixed(1).padStart(6)}× ${(b / floor).toFixed(1).padStart(7)}×  ${said}`);
}
console.log(`slowest 1 MiB reply: ${worst.toFixed(1)} ms (target < 50 ms) — ${worst < 50 ? 'met' : 'NOT met'}`);
