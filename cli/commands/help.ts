import { Help, type Command, type Option } from 'commander';

/** What a command's --help adds after its options: how it is used, and what its exit codes mean. */
export interface CommandHelp {
  /** Whole command lines; a `  # note` after one explains it. */
  readonly examples: readonly string[];
  readonly exitCodes: readonly (readonly [code: number, meaning: string])[];
}

export const EXIT_OK = 'done';
/** Exit 2, the same for every command. */
export const EXIT_USAGE = [2, 'usage: a bad command or flag, or a file named on the command line that cannot be used'] as const;
export const EXIT_FAILED = [1, 'a failure while working (the line on stderr says what and how to fix it)'] as const;
export const EXIT_INTERRUPTED = [130, 'interrupted (Ctrl-C)'] as const;

function section(title: string, lines: readonly string[]): string {
  return `\n${title}:\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
}

/** Adds examples and exit codes to the end of the command's --help. */
export function withHelp(command: Command, help: CommandHelp): Command {
  const codes = help.exitCodes.map(([code, meaning]) => `${String(code).padEnd(4)} ${meaning}`);
  return command.addHelpText('after', `${section('Examples', help.examples.map((line) => `$ ${line}`))}${section('Exit codes', codes)}`);
}

/**
 * Help for every command: required options are shown as such, in the usage line and in their
 * description (commander lists them like any other option).
 */
export const helpConfiguration: Partial<Help> = {
  commandUsage(command: Command): string {
    const usage = Help.prototype.commandUsage.call(this, command);
    const required = command.options.filter((option) => option.mandatory).map((option) => option.flags);
    return required.length > 0 ? usage.replace('[options]', `${required.join(' ')} [options]`) : usage;
  },
  optionDescription(option: Option): string {
    const description = Help.prototype.optionDescription.call(this, option);
    return option.mandatory ? `(required) ${description}` : description;
  },
};
