/**
 * Desktop operator speed on a private Xvfb screen, side by side in one run:
 * - screen capture: ImageMagick `import` (what the operator uses) vs libnut grab + sharp PNG;
 * - typing: xdotool, clipboard paste and libnut's keyboard.type, each checked against what a
 *   real xterm running `cat` received;
 * - the loop's own cost per step with a scripted model and a recording operator.
 * Run: npm run bench:desktop [-- runs]
 */
import { runAgent } from '../agent/loop/run-agent.ts';
import { RecordingOperator, ScriptedModel } from '../agent/testing/fakes.ts';
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnTracked, waitFor } from '../test/harness/processes.ts';
import { startVirtualDisplay } from '../test/harness/xvfb.ts';
import { startCatTerminal } from '../test/harness/xterm.ts';
import { median } from './stats.ts';

const runs = Number(process.argv[2] ?? 5);
const width = 1920;
const height = 1080;

// libnut keeps its X connection until the process ends and dies noisily if the server goes
// first, so the measuring runs in a child process while this one owns the Xvfb screen.
if (!process.env.KESTREL_BENCH_CHILD) {
  const screen = await startVirtualDisplay({ width, height });
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), String(runs)], {
    env: { ...screen.env, KESTREL_BENCH_CHILD: '1' },
    stdio: 'inherit',
  });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  await screen.stop();
  process.exit(code ?? 1);
}
const screen = {
  display: process.env.DISPLAY!,
  env: process.env,
  launch: (command: string, args: readonly string[], options: SpawnOptions = {}) => spawnTracked(command, args, { ...options, env: { ...process.env, ...options.env } }),
  waitForWindow: (title: string) =>
    waitFor(`the ${title} window`, () => {
      const info = spawnSync('xwininfo', ['-name', title]).stdout?.toString() ?? '';
      const field = (name: string): number => Number(new RegExp(`${name}:\\s+(-?\\d+)`).exec(info)?.[1]);
      return info.includes('IsViewable') ? { x: field('Absolute upper-left X'), y: field('Absolute upper-left Y'), width: field('Width'), height: field('Height') } : undefined;
    }),
};
const { DesktopOperator } = await import('../agent/desktop.ts');
const nut = await import('@nut-tree-fork/nut-js');

async function time(fn: () => Promise<unknown>, n = runs): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}
const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

try {
  const term = await startCatTerminal(screen, { title: 'bench', geometry: '200x40+0+0' });
  const op = new DesktopOperator({ env: screen.env, actionDelayMs: 0 });
  await op.execute({ kind: 'click', button: 'left', count: 1, at: { x: 400, y: 200 } });

  // Capture.
  const viaImport = await time(() => new DesktopOperator({ env: screen.env, capture: 'import' }).screenshot());
  const viaLibnut = await time(() => op.screenshot());
  const [a, b] = [await new DesktopOperator({ env: screen.env, capture: 'import' }).screenshot(), await op.screenshot()];
  console.log(
    `capture ${width}×${height} PNG (median of ${runs}): ImageMagick import ${fmt(viaImport)} ms (${(a.png.length / 1024).toFixed(0)} KiB), ` +
      `libnut + sharp ${fmt(viaLibnut)} ms (${(b.png.length / 1024).toFixed(0)} KiB) → import/libnut ${(viaImport / viaLibnut).toFixed(2)}×`,
  );

  // Typing: time per character and whether the xterm got exactly the text.
  async function typed(label: string, text: string, type: () => Promise<void>): Promise<number> {
    const before = term.received().length;
    const t = performance.now();
    await type();
    const ms = performance.now() - t;
    await op.execute({ kind: 'press', key: 'enter', presses: 1 });
    let got = '';
    try {
      got = (await term.waitForBytes((b) => b.subarray(before).includes(0x0a), label, 5000)).subarray(before).toString('utf8');
    } catch {
      got = term.received().subarray(before).toString('utf8');
    }
    const ok = got === `${text}\n`;
    console.log(`  ${label.padEnd(30)} ${fmt(ms / [...text].length).padStart(6)} ms/char  ${ok ? 'exact' : `WRONG (got ${JSON.stringify(got.slice(0, 40))})`}`);
    return ms / [...text].length;
  }
  const ascii = 'The quick brown fox: "jumps" over {the} lazy dog & cat #42 ~/tmp (ok) | 100% done; <end>?'.repeat(2);
  const unicode = 'Grüße aus Köln — 世界你好 ✓ naïve café ½ ¿qué?';
  console.log(`typing ${[...ascii].length} ASCII characters into xterm:`);
  const xdotool = await typed('xdotool type (5 ms delay)', ascii, () => new DesktopOperator({ env: screen.env, typing: 'xdotool', actionDelayMs: 0 }).execute({ kind: 'type', text: ascii }));
  const paste = await typed('clipboard paste (shift+Insert)', ascii, () => new DesktopOperator({ env: screen.env, typing: 'clipboard', actionDelayMs: 0 }).execute({ kind: 'type', text: ascii }));
  nut.keyboard.config.autoDelayMs = 5;
  const libnut = await typed('libnut keyboard.type (5 ms)', ascii, async () => void (await nut.keyboard.type(ascii)));
  console.log(`  → xdotool/paste ${(xdotool / paste).toFixed(1)}×, libnut/xdotool ${(libnut / xdotool).toFixed(2)}×`);
  console.log(`typing ${[...unicode].length} non-ASCII characters:`);
  await typed('xdotool type', unicode, () => new DesktopOperator({ env: screen.env, typing: 'xdotool', actionDelayMs: 0 }).execute({ kind: 'type', text: unicode }));
  await typed('clipboard paste (auto)', unicode, () => new DesktopOperator({ env: screen.env, actionDelayMs: 0 }).execute({ kind: 'type', text: unicode }));
  term.dispose();

  // The loop's own overhead per step, without model or desktop latency.
  const steps = 200;
  const turns = Array.from({ length: steps - 1 }, (_, i) => `## Action:\nstep\n## Code:\npyautogui.click(x=${(i % 97) / 100}, y=0.5)`);
  const t = performance.now();
  const result = await runAgent('bench', { model: new ScriptedModel([...turns, 'DONE']), operator: new RecordingOperator(), settle: false, actionDelayMs: 0, maxSteps: steps + 1 });
  const perStep = (performance.now() - t) / result.steps;
  console.log(`loop overhead: ${fmt(perStep)} ms/step over ${result.steps} steps (scripted model, recording operator) → one libnut capture costs ${(viaLibnut / perStep).toFixed(0)}× the loop step`);
} finally {
  process.exit(process.exitCode ?? 0);
}
