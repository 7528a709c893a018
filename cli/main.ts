import { Command, CommanderError } from 'commander';
import { CliError, oneLine } from './errors.ts';
import { helpConfiguration, withHelp, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE } from './commands/help.ts';
import { registerCommands } from './commands/index.ts';
import { onStdoutClosed } from './model/stdout-closed.ts';

export const VERSION = '0.1.0';

/** Builds the `kestrel` program. Commands load their heavy modules only when they run. */
export function buildProgram(): Command {
  const program = new Command('kestrel')
    .description('Kestrel: a local-first desktop GUI agent driven by the Kimi-VL vision-language model.')
    .version(VERSION, '-v, --version')
    .showSuggestionAfterError(true)
    .configureOutput({
      // Commander prints usage errors itself; keep them to the single line it writes.
      outputError: (text, write) => write(`kestrel: ${text.replace(/^error: /, '').trim()}\n`),
    })
    .configureHelp(helpConfiguration)
    .exitOverride();
  registerCommands(program);
  withHelp(program, {
    examples: [
      'kestrel run "open the Downloads folder" --endpoint http://gpu-box:8000/v1 --model moonshotai/Kimi-VL-A3B-Instruct',
      'kestrel model import ~/models/kimi-vl --out ~/models/kimi-vl-onnx',
      'kestrel ground shot.png "the Save button" --model-dir ~/models/kimi-vl-onnx',
      'kestrel ui --virtual     # the app in a browser, the agent on a private display',
      'kestrel help run         # one command\'s flags, examples and exit codes',
    ],
    exitCodes: [[0, 'done'], EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED],
  });
  const inherit = (parent: Command): void => {
    for (const cmd of parent.commands) {
      cmd.exitOverride().configureOutput(program.configureOutput()).configureHelp(helpConfiguration).showSuggestionAfterError(true);
      inherit(cmd);
    }
  };
  inherit(program);
  return program;
}

/** Runs the CLI and returns the process exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`kestrel run --help | head`) had all it wanted: no EPIPE crash.
  onStdoutClosed(() => undefined);
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0; usage errors are 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`kestrel: ${oneLine(err)}\n`);
      return err.exitCode;
    }
    process.stderr.write(`kestrel: unexpected error: ${oneLine(err)}\n`);
    if (process.env.KESTREL_DEBUG) console.error(err);
    return 1;
  }
}
