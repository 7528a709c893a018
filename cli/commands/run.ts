import { InvalidArgumentError, type Command } from 'commander';
import { RUN_DEFAULTS } from '../../agent/types.ts';
import { addModelOptions } from '../model-options.ts';
import { EXIT_INTERRUPTED, EXIT_USAGE, withHelp } from './help.ts';
import { positiveInt, wholeNumber } from '../options.ts';

function typing(value: string): 'auto' | 'keys' | 'xdotool' | 'clipboard' {
  if (value === 'auto' || value === 'keys' || value === 'xdotool' || value === 'clipboard') return value;
  throw new InvalidArgumentError(`--typing must be auto, keys or clipboard, got '${value}'.`);
}

export function registerRun(program: Command): void {
  const command = addModelOptions(
    program
      .command('run')
      .description('run the agent on an instruction, driving this desktop')
      .argument('<instruction>', 'what to do, in plain words'),
  );
  withHelp(command, {
    examples: [
      'kestrel run "open the Downloads folder" --endpoint http://gpu-box:8000/v1 --model moonshotai/Kimi-VL-A3B-Instruct',
      'kestrel run "rename todo.txt to done.txt" --model-dir ~/models/kimi-vl-onnx --record runs/rename',
      'kestrel run "close the dialog" --endpoint http://127.0.0.1:8000/v1 --model kimi-vl --confirm   # y/n before each step',
    ],
    exitCodes: [
      [0, 'the model said the task is done'],
      [1, 'the model gave up, or an error ended the run'],
      EXIT_USAGE,
      [3, 'the model asks for you (call_user)'],
      [4, 'a limit stopped it: --max-steps, --max-repeats or --time-limit'],
      [5, 'you declined a step under --confirm'],
      EXIT_INTERRUPTED,
    ],
  });
  command
    .option('--max-steps <n>', 'stop after this many steps', positiveInt('--max-steps'), RUN_DEFAULTS.maxSteps)
    .option('--max-repeats <n>', 'stop when the same action is chosen this many times in a row', positiveInt('--max-repeats'), RUN_DEFAULTS.maxRepeats)
    .option('--time-limit <seconds>', 'stop after this long', positiveInt('--time-limit'))
    .option('--record <dir>', "write the trajectory there (OSWorld's layout: traj.jsonl + step_<n>_<time>.png, plus run.json)")
    .option('--display <n>', 'which monitor to watch and act on: its index or name (X11: from `xrandr --listmonitors`; default: the primary)')
    .option('--confirm', 'show each step and wait for y/n on stdin before acting')
    .option('--thinking', 'use the Kimi-VL Thinking prompt and sampling defaults')
    .option('--screenshots <n>', 'screenshots sent per request, the current one included', positiveInt('--screenshots'), RUN_DEFAULTS.screenshots)
    .option('--typing <how>', 'how text is typed: auto (key events where they are exact: Windows, macOS, ASCII on X11; else a clipboard paste), keys, clipboard', typing, 'auto')
    .option('--mouse-speed <px-per-s>', 'animate the pointer at this speed (0 = jump)', wholeNumber('--mouse-speed'), 0)
    .option('--action-delay <ms>', 'pause after each action, so applications keep up and you can follow (and stop) the run', wholeNumber('--action-delay'), RUN_DEFAULTS.actionDelayMs)
    .action(async (instruction: string, options) => {
      const { runCommand } = await import('../run/run-command.ts');
      process.exitCode = await runCommand(instruction, options);
    });
}
