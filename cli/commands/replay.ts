import { InvalidArgumentError, type Command } from 'commander';
import { RUN_DEFAULTS } from '../../agent/types.ts';
import { folderNameProblem } from '../../shared/folder-name.ts';
import { addModelOptions } from '../model-options.ts';
import { EXIT_FAILED, EXIT_INTERRUPTED, withHelp } from './help.ts';
import { positiveInt, wholeNumber } from '../options.ts';

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

export function registerReplay(program: Command): void {
  const command = addModelOptions(
    program
      .command('replay')
      .description('run an OSWorld task file, or replay a recorded trajectory, on this desktop')
      .argument('<task>', 'an OSWorld task .json file or a folder of them'),
  );
  withHelp(command, {
    examples: [
      'kestrel replay examples/ --check                          # what runs here, and the commands needing consent',
      'kestrel replay task.json --endpoint http://gpu:8000/v1 --model kimi-vl --allow-exec',
      'kestrel replay task.json --trajectory results/os/<id>/traj.jsonl --no-evaluate',
    ],
    exitCodes: [
      [0, 'every task ran (or was reported unsupported); scores are printed and written under --record'],
      EXIT_FAILED,
      [2, 'usage: a bad flag, task file or trajectory, or commands that need --allow-exec'],
      EXIT_INTERRUPTED,
    ],
  });
  command
    .option('--trajectory <path>', "replay a recorded run instead of asking the model: a JSONL file of steps, any name (Kestrel's traj.jsonl or OSWorld's pyautogui), or a run folder")
    .option('--allow-exec', 'allow what the task file does beyond sleeping and raising windows (commands, file copies, closing windows, keyboard and mouse input); without it each is listed and nothing runs')
    .option('--record <dir>', "results folder, in OSWorld's layout <dir>/<domain>/<task id>/; a task folder that already holds a run is refused", 'results')
    .option('--client-password-env <VAR>', 'environment variable holding the password that fills {CLIENT_PASSWORD}', envName)
    .option('--domain <name>', 'the domain folder results go under (default: the task folder name, else the task snapshot)', domainName)
    .option('--max-steps <n>', 'most agent steps per task (OSWorld reports at 15, 50 and 100)', positiveInt('--max-steps'), RUN_DEFAULTS.maxSteps)
    .option('--display <n>', 'which monitor to act on: index or output name from `xrandr --listmonitors`')
    .option('--settle <ms>', 'pause after each replayed step', wholeNumber('--settle'), 300)
    .option('--no-evaluate', "set up and act (agent or trajectory) but skip the task's evaluator; no result.txt")
    .option('--check', 'only list which tasks can run here, what they lack, and the commands they would run')
    .action(async (task: string, options) => {
      const { replayCommand } = await import('../replay/replay-command.ts');
      process.exitCode = await replayCommand(task, options);
    });
}
