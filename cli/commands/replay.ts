import { InvalidArgumentError, type Command } from 'commander';
import { folderNameProblem } from '../../agent/osworld/task.ts';
import { addModelOptions } from '../model-options.ts';
import { positiveInt } from '../options.ts';

function envName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new InvalidArgumentError('--client-password-env takes the NAME of an environment variable, not the password itself.');
  }
  return value;
}

function domainName(value: string): string {
  const problem = folderNameProblem(value);
  if (problem) throw new InvalidArgumentError(`--domain ${JSON.stringify(value)} ${problem}; it names one results folder.`);
  return value;
}

function milliseconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`--settle must be a whole number of milliseconds, got '${value}'.`);
  return Number(value);
}

export function registerReplay(program: Command): void {
  addModelOptions(
    program
      .command('replay')
      .description('run an OSWorld task file, or replay a recorded trajectory, on this desktop')
      .argument('<task>', 'an OSWorld task .json file or a folder of them'),
  )
    .option('--trajectory <path>', "replay a recorded run instead of asking the model: a JSONL file of steps, any name (Kestrel's traj.jsonl or OSWorld's pyautogui), or a run folder")
    .option('--allow-exec', 'allow what the task file does beyond sleeping and raising windows (commands, file copies, closing windows, keyboard and mouse input); without it each is listed and nothing runs')
    .option('--record <dir>', "results folder, in OSWorld's layout <dir>/<domain>/<task id>/; a task folder that already holds a run is refused", 'results')
    .option('--client-password-env <VAR>', 'environment variable holding the password that fills {CLIENT_PASSWORD}', envName)
    .option('--domain <name>', 'the domain folder results go under (default: the task folder name, else the task snapshot)', domainName)
    .option('--max-steps <n>', 'most agent steps per task', positiveInt('--max-steps'), 15)
    .option('--display <n>', 'which monitor to act on: index or output name from `xrandr --listmonitors`')
    .option('--settle <ms>', 'pause after each replayed step', milliseconds, 300)
    .option('--no-evaluate', "set up and act (agent or trajectory) but skip the task's evaluator; no result.txt")
    .option('--check', 'only list which tasks can run here, what they lack, and the commands they would run')
    .action(async (task: string, options) => {
      const { replayCommand } = await import('../replay/replay-command.ts');
      process.exitCode = await replayCommand(task, options);
    });
}
