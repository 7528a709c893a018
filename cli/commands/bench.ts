import { InvalidArgumentError, type Command } from 'commander';
import { DEVICES, type Device } from '../../native-models/index.ts';
import { BENCH_DEFAULTS } from '../../shared/bench.ts';
import { positiveInt } from '../options.ts';
import { EXIT_USAGE, withHelp } from './help.ts';

/** `--device cpu,webgpu` or `--device cpu --device webgpu`: the devices in order, each once. */
function deviceList(value: string, previous: Device[] | undefined): Device[] {
  const devices = value.split(',').map((d) => d.trim());
  const wrong = devices.find((d) => !(DEVICES as readonly string[]).includes(d));
  if (wrong !== undefined) throw new InvalidArgumentError(`--device takes ${DEVICES.join(', ')} (comma-separated for several), got '${wrong}'.`);
  return [...new Set([...(previous ?? []), ...(devices as Device[])])];
}

export function registerBench(program: Command): void {
  const command = program
    .command('bench')
    .description('time imported models on devices, llama-bench style: load, prefill, a screenshot\'s vision and prefill, decode, the first grounded point, peak memory')
    .argument('<model-dir...>', 'imported model folders; each runs on every --device')
    .option('--device <devices>', 'where to run: auto (tries CUDA, then WebGPU, then the CPU), cpu, cuda or webgpu; comma-separated for several (default: auto)', deviceList)
    .option('-r, --repetitions <n>', 'fresh loads per model and device; each test is reported as mean ± sd', positiveInt('--repetitions'), BENCH_DEFAULTS.repetitions)
    .option('-p, --prompt <n>', 'tokens in the prefill test', positiveInt('--prompt'), BENCH_DEFAULTS.promptTokens)
    .option('-n, --decode <n>', 'tokens in the decode test', positiveInt('--decode'), BENCH_DEFAULTS.decodeTokens)
    .option('--image <file>', 'the screenshot for the vision and first-point tests (default: a generated 1920×1080 one)')
    .option('--json', 'print one JSON object: the machine, the settings, and for each model and device every test\'s mean, sd and samples')
    .action(async (dirs: string[], opts: { device?: Device[]; repetitions: number; prompt: number; decode: number; image?: string; json?: boolean }) => {
      const { runBench } = await import('../model/bench-command.ts');
      process.exitCode = await runBench(dirs, opts);
    });
  withHelp(command, {
    examples: [
      'kestrel bench ~/models/kimi-vl-int4 ~/models/kimi-vl-fp16 --device cpu,webgpu  # which precision and device to choose',
      'kestrel bench ~/models/kimi-vl-int4 --repetitions 5 --json > bench.json',
    ],
    exitCodes: [
      [0, 'every model ran on every device'],
      [1, 'a model failed on a device (its line says why; the others ran)'],
      EXIT_USAGE,
    ],
  });
}
