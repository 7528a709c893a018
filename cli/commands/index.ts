import type { Command } from 'commander';
import { registerApp } from './app.ts';
import { registerBench } from './bench.ts';
import { registerEval } from './eval.ts';
import { registerGround } from './ground.ts';
import { registerModel } from './model.ts';
import { registerReplay } from './replay.ts';
import { registerRun } from './run.ts';
import { registerServe } from './serve.ts';
import { registerUi } from './ui.ts';

/** Every subcommand, in the order `kestrel --help` lists them. */
export function registerCommands(program: Command): void {
  registerRun(program);
  registerGround(program);
  registerReplay(program);
  registerEval(program);
  registerModel(program);
  registerBench(program);
  registerServe(program);
  registerUi(program);
  registerApp(program);
}
