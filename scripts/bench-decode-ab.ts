/**
 * Decode steps of several imported model folders, timed side by side in one process: every
 * folder is opened and prefilled once, then the folders take turns, a round of greedy steps
 * each from the same prefilled cache, so a busy machine weighs on all of them alike. Prints
 * each folder's median step time (range over rounds) and, against the first folder, the step
 * time ratio paired per round, and the minor page faults a step (fresh memory touched). For comparing graph forms of one checkpoint (import each form
 * into its own folder first); bench-lm.ts gives the speed of a precision.
 * Run: npx tsx scripts/bench-decode-ab.ts <folder> <folder>… [--prompt 128] [--steps 16] [--rounds 30]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { TextSession } from '../native-models/models/kimi-vl/runtime/text-session.ts';
import { greedyPrefill, greedySteps, type DecodeState } from './greedy-steps.ts';
import { median, medianAndSpread } from './stats.ts';

const { values: args, positionals: folders } = parseArgs({
  allowPositionals: true,
  options: { prompt: { type: 'string', default: '128' }, steps: { type: 'string', default: '16' }, rounds: { type: 'string', default: '30' } },
});
if (folders.length === 0) {
  console.error('usage: npx tsx scripts/bench-decode-ab.ts <folder> <folder>… [--prompt 128] [--steps 16] [--rounds 30]');
  process.exit(2);
}
const steps = Number(args.steps);
const rounds = Number(args.rounds);
const prompt = Array.from({ length: Number(args.prompt) }, (_, i) => (i * 7919 + 2) % 400);

interface Opened {
  readonly dir: string;
  readonly session: TextSession;
  /** After the prompt: every round starts from here. */
  readonly prefilled: DecodeState;
  readonly stepMs: number[];
  /** Minor page faults per step, per round: this process's, so they include whatever else ran in it meanwhile (little: the rounds take turns). */
  readonly faults: number[];
  tokens?: number[];
}

const loadAtStart = loadavg()[0]!;
const opened: Opened[] = [];
for (const dir of folders) {
  const session = await TextSession.open(dir);
  await session.forward(prompt.slice(0, 8)); // warm-up
  opened.push({ dir, session, prefilled: await greedyPrefill(session, prompt), stepMs: [], faults: [] });
}

/** One round of greedy steps from the prefilled cache; its mean step time. */
async function round(o: Opened): Promise<number> {
  const faults0 = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  const { tokens } = await greedySteps(o.session, o.prefilled, steps);
  const ms = (performance.now() - t0) / steps;
  o.faults.push((process.resourceUsage().minorPageFault - faults0) / steps);
  o.tokens ??= tokens;
  return ms;
}

for (let r = 0; r < rounds; r++) {
  // Rotate the order so no folder always runs right after another.
  for (let i = 0; i < opened.length; i++) {
    const o = opened[(i + r) % opened.length]!;
    o.stepMs.push(await round(o));
  }
}

console.log(`${rounds} rounds of ${steps} decode steps after a ${prompt.length}-token prompt, the folders taking turns; ms per step, median (range); load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`);
const [first] = opened;
for (const o of opened) {
  const paired = o.stepMs.map((ms, r) => ms / first!.stepMs[r]!);
  const same = o.tokens!.join() === first!.tokens!.join() ? '' : ', greedy tokens differ from the first folder\'s';
  console.log(`${o.dir}: ${medianAndSpread(o.stepMs, 2)} ms; × the first's time, paired per round: ${median(paired).toFixed(3)}; minor page faults a step ${medianAndSpread(o.faults, 1)}, mean ${(o.faults.reduce((a, b) => a + b, 0) / o.faults.length).toFixed(1)}${same}`);
}
for (const o of opened) await o.session.release();
