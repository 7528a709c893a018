import { describe, expect, test } from 'vitest';
import type { AgentEvent } from '../agent/types.ts';
import { RunManager, type AgentRunner, type RunContext } from './run-manager.ts';
import { DEFAULT_SETTINGS } from './settings.ts';
import type { HostEvent } from './types.ts';

/** A runner that takes `steps` steps, waiting while paused (as runAgent does) and confirming before each action. */
function scriptedRunner(steps: number, log: string[]): AgentRunner {
  return async (ctx: RunContext) => {
    for (let step = 1; step <= steps; step++) {
      ctx.emit({ type: 'step_started', step });
      if (await ctx.pause.whilePaused(ctx.signal, () => ctx.emit({ type: 'paused' }))) ctx.emit({ type: 'resumed' });
      ctx.signal.throwIfAborted();
      if (ctx.confirm && !(await ctx.confirm(step))) {
        ctx.emit({ type: 'run_finished', status: 'aborted', reason: 'rejected', steps: step, durationMs: 1 });
        return;
      }
      ctx.signal.throwIfAborted();
      log.push(`action ${step}`);
      await new Promise((done) => setTimeout(done, 5));
    }
    ctx.emit({ type: 'run_finished', status: 'finished', reason: 'done', steps, durationMs: 1 });
  };
}

function collect(manager: RunManager): HostEvent[] {
  const events: HostEvent[] = [];
  manager.subscribe((e) => events.push(e));
  return events;
}

const agentTypes = (events: HostEvent[]) =>
  events.filter((e): e is Extract<HostEvent, { type: 'agent' }> => e.type === 'agent').map((e) => e.event.type);

describe('RunManager', () => {
  test('where a run is recorded goes to every window and stays after the run; the next run starts without it', async () => {
    const manager = new RunManager(async (ctx) => {
      ctx.recordingIn(`/runs/${ctx.request.instruction}`);
      ctx.emit({ type: 'run_finished', status: 'finished', reason: 'done', steps: 0, durationMs: 1 });
    }, () => DEFAULT_SETTINGS);
    const events = collect(manager);
    manager.start({ instruction: 'first' });
    await manager.idle();
    expect(manager.current()).toMatchObject({ phase: 'idle', savedTo: '/runs/first', lastStatus: 'finished' });
    expect(events.some((e) => e.type === 'state' && e.state.phase === 'running' && e.state.savedTo === '/runs/first')).toBe(true);
    expect(manager.start({ instruction: 'second' }).savedTo).toBeUndefined();
    await manager.idle();
    expect(manager.current().savedTo).toBe('/runs/second');
  });

  test('a run goes through its steps and reports the end', async () => {
    const log: string[] = [];
    const manager = new RunManager(scriptedRunner(3, log), () => DEFAULT_SETTINGS);
    const events = collect(manager);
    expect(manager.start({ instruction: 'do it' }).phase).toBe('running');
    expect(() => manager.start({ instruction: 'again' })).toThrow(/already in progress/);
    await manager.idle();
    expect(log).toEqual(['action 1', 'action 2', 'action 3']);
    expect(manager.current()).toMatchObject({ phase: 'idle', step: 3, lastStatus: 'finished' });
    expect(agentTypes(events)).toEqual(['step_started', 'step_started', 'step_started', 'run_finished']);
  });

  test('pause holds the run at the next action; resume lets it go on', async () => {
    const log: string[] = [];
    let release!: () => void;
    const firstStep = new Promise<void>((done) => (release = done));
    const runner: AgentRunner = async (ctx) => {
      await firstStep;
      await scriptedRunner(2, log)(ctx);
    };
    const manager = new RunManager(runner, () => DEFAULT_SETTINGS);
    const events = collect(manager);
    manager.start({ instruction: 'x' });
    expect(manager.pause().phase).toBe('paused');
    release();
    await new Promise((done) => setTimeout(done, 30));
    expect(log).toEqual([]);
    expect(manager.resume().phase).toBe('running');
    await manager.idle();
    expect(log).toEqual(['action 1', 'action 2']);
    expect(agentTypes(events).filter((t) => t === 'paused' || t === 'resumed')).toEqual(['paused', 'resumed']);
  });

  test('stop aborts a paused run and the runner sees the abort', async () => {
    const log: string[] = [];
    let signal: AbortSignal | undefined;
    const manager = new RunManager(async (ctx) => {
      signal = ctx.signal;
      await scriptedRunner(50, log)(ctx);
    }, () => DEFAULT_SETTINGS);
    const events = collect(manager);
    manager.start({ instruction: 'x' });
    manager.pause();
    manager.stop();
    await manager.idle();
    expect(signal?.aborted).toBe(true);
    expect(log).toEqual([]);
    expect(manager.current()).toMatchObject({ phase: 'idle', lastStatus: 'aborted', lastReason: 'stopped' });
    const finished = events.filter((e) => e.type === 'agent' && e.event.type === 'run_finished');
    expect(finished).toHaveLength(1);
  });

  test('confirm-each-action waits for the answer; a rejection ends the run', async () => {
    const log: string[] = [];
    const manager = new RunManager(scriptedRunner(3, log), () => DEFAULT_SETTINGS);
    const events = collect(manager);
    expect(() => manager.confirm(true)).toThrow(/no run to confirm/);
    manager.start({ instruction: 'x', confirmEachAction: true });
    const waitFor = async () => {
      while (!manager.current().awaitingConfirmation) await new Promise((d) => setTimeout(d, 2));
    };
    await waitFor();
    manager.confirm(true);
    await waitFor();
    manager.confirm(false);
    await manager.idle();
    expect(log).toEqual(['action 1']);
    expect(manager.current().lastReason).toBe('rejected');
    expect(events.some((e) => e.type === 'state' && e.state.awaitingConfirmation)).toBe(true);
  });

  test('a runner that throws ends the run with its message', async () => {
    const manager = new RunManager(async () => {
      throw new Error('the endpoint at http://x refused the connection');
    }, () => DEFAULT_SETTINGS);
    const events = collect(manager);
    manager.start({ instruction: 'x' });
    await manager.idle();
    expect(manager.current()).toMatchObject({ lastStatus: 'error', lastReason: 'the endpoint at http://x refused the connection' });
    const last = events.filter((e) => e.type === 'agent').at(-1) as { event: AgentEvent };
    expect(last.event).toMatchObject({ type: 'run_finished', status: 'error' });
  });
});
