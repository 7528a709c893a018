import { getEventListeners } from 'node:events';
import { describe, expect, test } from 'vitest';
import type { AgentEvent } from '../events.ts';
import type { DisplayInfo } from '../operator.ts';
import { ModelEndpointError } from '../openai/errors.ts';
import { RecordingOperator, ScriptedModel, type ScriptedTurn } from '../testing/fakes.ts';
import { PauseController } from './pause.ts';
import { keepRecentScreenshots, runAgent, type RunAgentOptions } from './run-agent.ts';
import { anyOf, maxSteps, repeatedAction, terminalAction, type StopRule } from './stop-rules.ts';

const code = (body: string): string => `## Action:\nDo the next thing.\n## Code:\n\`\`\`python\n${body}\n\`\`\``;
const click = (x: number, y: number): string => code(`pyautogui.click(x=${x}, y=${y})`);
const DONE = code("computer.terminate(status='success')");

function setup(turns: ScriptedTurn[], extra: Partial<RunAgentOptions> = {}, operator = new RecordingOperator()) {
  const model = new ScriptedModel(turns);
  const events: AgentEvent[] = [];
  const run = runAgent('open the File menu', {
    model,
    operator,
    onEvent: (e) => events.push(e),
    settle: { initialDelayMs: 0, intervalMs: 1, timeoutMs: 200 },
    retries: { attempts: 3, backoffMs: 1 },
    actionDelayMs: 0,
    ...extra,
  });
  return { model, operator, events, run, types: () => events.map((e) => e.type) };
}

describe('runAgent', () => {
  test('captures, asks, parses, maps, announces, executes and finishes', async () => {
    const { run, operator, events, types, model } = setup([
      click(0.5, 0.25),
      code("pyautogui.write('notes')\npyautogui.press('enter')"),
      code("computer.terminate(status='success', answer='opened')"),
    ]);
    const result = await run;
    expect(result).toMatchObject({ status: 'finished', steps: 3, answer: 'opened', reason: 'the model said the task is done' });
    expect(operator.executed).toEqual([
      { kind: 'click', button: 'left', count: 1, at: { x: 640, y: 200 } },
      { kind: 'type', text: 'notes' },
      { kind: 'press', key: 'enter', presses: 1 },
    ]);
    expect(types()[0]).toBe('run_started');
    expect(types().at(-1)).toBe('run_finished');
    const step1 = events.filter((e) => 'step' in e && e.step === 1).map((e) => e.type);
    expect(step1.filter((t) => t !== 'token')).toEqual(['step_started', 'screenshot', 'planned', 'action_executed', 'step_finished']);
    expect(step1).toContain('token');
    const tokens = events.filter((e): e is Extract<AgentEvent, { type: 'token' }> => e.type === 'token' && e.step === 1).map((e) => e.delta).join('');
    expect(tokens).toBe(click(0.5, 0.25));
    const planned = events.find((e): e is Extract<AgentEvent, { type: 'planned' }> => e.type === 'planned')!;
    expect(planned.actions).toEqual([{ kind: 'click', button: 'left', count: 1, at: { x: 0.5, y: 0.25 } }]);
    // Announced before executed.
    expect(types().indexOf('planned')).toBeLessThan(types().indexOf('action_executed'));
    // Each step the model saw the screen after the previous step's action (the settle capture).
    const frames = model.requests.map((r) => {
      const last = r.messages.at(-1)!.content as readonly { type: string; image?: { data: Uint8Array } }[];
      return new TextDecoder().decode(last[0]!.image!.data);
    });
    expect(frames).toEqual(['fake-png frame=0', 'fake-png frame=1', 'fake-png frame=3']);
  });

  test('HiDPI and non-primary displays: actions land where the model pointed', async () => {
    const display: DisplayInfo = { id: 'r', name: 'right', bounds: { x: 1920, y: -200, width: 1440, height: 900 }, scaleFactor: 2, primary: false };
    const { run, operator } = setup([click(0.5, 0.5), code('pyautogui.click(x=2880, y=0)'), DONE], {}, new RecordingOperator({ display }));
    await run;
    expect(operator.executed.map((a) => (a.kind === 'click' ? a.at : undefined))).toEqual([
      { x: 2640, y: 250 },
      { x: 3359.5, y: -200 },
    ]);
  });

  test.each([
    [code("computer.terminate(status='failure')"), 'failed'],
    [code('FAIL'), 'failed'],
    [code('CALL_USER'), 'call_user'],
    [code('DONE'), 'finished'],
  ])('%j ends the run as %s without touching the desktop', async (reply, status) => {
    const { run, operator } = setup([reply]);
    expect((await run).status).toBe(status);
    expect(operator.executed).toEqual([]);
  });

  test('actions before a terminal call in the same reply still run', async () => {
    const { run, operator } = setup([code("pyautogui.press('enter')\ncomputer.terminate(status='success')")]);
    expect((await run).status).toBe('finished');
    expect(operator.executed).toEqual([{ kind: 'press', key: 'enter', presses: 1 }]);
  });

  test('max steps', async () => {
    const { run, operator } = setup([click(0.1, 0.1), click(0.2, 0.2), click(0.3, 0.3), click(0.4, 0.4)], { maxSteps: 3 });
    expect(await run).toMatchObject({ status: 'max_steps', steps: 3, reason: 'reached the limit of 3 steps' });
    expect(operator.executed).toHaveLength(3);
  });

  test('the same action N times in a row', async () => {
    const { run } = setup(Array.from({ length: 10 }, () => click(0.5, 0.5)), { maxRepeats: 3 });
    expect(await run).toMatchObject({ status: 'repeated_action', steps: 3 });
  });

  test('stop rules compose: a custom rule set replaces the defaults', async () => {
    const { run } = setup([click(0.1, 0.1), click(0.1, 0.1), click(0.1, 0.1)], { stopRules: anyOf(maxSteps(2)), maxRepeats: 2 });
    expect(await run).toMatchObject({ status: 'max_steps', steps: 2 });
  });

  test('stop rules as a list (stopWhen-style): the first that decides wins, and the time limit still applies', async () => {
    const { run } = setup([click(0.1, 0.1), click(0.2, 0.1), click(0.3, 0.1)], { stopRules: [repeatedAction(1), maxSteps(1)] });
    expect(await run).toMatchObject({ status: 'repeated_action', steps: 1 });
    const slow: ScriptedTurn = { text: click(0.1, 0.5), delayMs: 60 };
    const late = setup([slow, slow, slow], { stopRules: [maxSteps(10)], timeLimitMs: 30 });
    // The 60 ms reply outlasts the 30 ms limit: the check before the first action ends the run.
    expect(await late.run).toMatchObject({ status: 'time_limit', steps: 0 });
  });

  test('the rules are asked between steps, not between one step\'s actions (only the time limit is)', async () => {
    const seen: number[] = [];
    const counting: StopRule = ({ history }) => void seen.push(history.length);
    const { run, operator } = setup([code("pyautogui.write('a')\npyautogui.press('enter')\npyautogui.click(x=0.5, y=0.5)"), DONE], { stopRules: [terminalAction, counting] });
    expect(await run).toMatchObject({ status: 'finished', steps: 2 });
    expect(operator.executed).toHaveLength(3);
    // Before step 1, when it ended, before step 2 (which ended the run by its terminal action).
    expect(seen).toEqual([0, 1, 1]);
  });

  test('wall-clock limit', async () => {
    const slow = (x: number): ScriptedTurn => ({ text: click(x, 0.5), delayMs: 40 });
    const { run } = setup([slow(0.1), slow(0.2), slow(0.3), slow(0.4), slow(0.5)], { timeLimitMs: 100 });
    const result = await run;
    expect(result.status).toBe('time_limit');
    // A loaded machine may fit only one 40 ms step into the limit; never all five.
    expect(result.steps).toBeGreaterThanOrEqual(1);
    expect(result.steps).toBeLessThanOrEqual(4);
  });

  test('abort stops within the running action', async () => {
    const controller = new AbortController();
    const operator = new RecordingOperator({ actionDelayMs: 10_000 });
    const { run, events } = setup([code("pyautogui.click(0.1, 0.1)\npyautogui.write('never')"), DONE], { signal: controller.signal }, operator);
    await new Promise((r) => setTimeout(r, 100));
    const at = Date.now();
    controller.abort();
    const result = await run;
    // The action itself would take 10 s.
    expect(Date.now() - at).toBeLessThan(1000);
    expect(result).toMatchObject({ status: 'aborted', steps: 0, reason: 'stopped by the person' });
    expect(operator.calls.filter((c) => c.startsWith('execute'))).toEqual(['execute:click']);
    expect(events.at(-1)).toMatchObject({ type: 'run_finished', status: 'aborted' });
  });

  test('abort while the model is thinking', async () => {
    const controller = new AbortController();
    const { run, operator } = setup([{ text: click(0.1, 0.1), delayMs: 10_000 }], { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await run).status).toBe('aborted');
    expect(operator.executed).toEqual([]);
  });

  test('pause holds the run before the next step until resume', async () => {
    const pause = new PauseController();
    const { run, model, types } = setup([click(0.1, 0.1), DONE], { pause });
    pause.pause();
    await new Promise((r) => setTimeout(r, 80));
    expect(model.requests).toHaveLength(0);
    expect(types()).toContain('paused');
    pause.resume();
    expect((await run).status).toBe('finished');
    expect(types().indexOf('resumed')).toBeGreaterThan(types().indexOf('paused'));
  });

  test('pause between actions of one step', async () => {
    const pause = new PauseController();
    const operator = new RecordingOperator({ actionDelayMs: 30 });
    const { run } = setup([code("pyautogui.press('a')\npyautogui.press('b')"), DONE], { pause }, operator);
    await new Promise((r) => setTimeout(r, 10));
    pause.pause();
    await new Promise((r) => setTimeout(r, 100));
    expect(operator.executed).toHaveLength(1);
    pause.resume();
    await run;
    expect(operator.executed).toHaveLength(2);
  });

  test('an abort while paused ends the run', async () => {
    const pause = new PauseController();
    const controller = new AbortController();
    const { run } = setup([click(0.1, 0.1)], { pause, signal: controller.signal });
    pause.pause();
    setTimeout(() => controller.abort(), 30);
    expect((await run).status).toBe('aborted');
  });

  test('actionDelayMs is the pause after each action (none after a wait), abortable, with no listener left behind', async () => {
    const operator = new RecordingOperator();
    const times: number[] = [];
    const execute = operator.execute.bind(operator);
    operator.execute = async (action, signal) => (await execute(action, signal), void times.push(performance.now()));
    const controller = new AbortController();
    const { run } = setup([code("pyautogui.press('a')\npyautogui.press('b')\ncomputer.wait(seconds=0)\npyautogui.press('c')"), DONE], { actionDelayMs: 60, signal: controller.signal }, operator);
    expect((await run).status).toBe('finished');
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(55);
    expect(times[3]! - times[2]!).toBeLessThan(55);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  test('flaky captures are retried with back-off, and announced', async () => {
    const operator = new RecordingOperator({ failScreenshots: 2 });
    const { run, events } = setup([click(0.1, 0.1), DONE], {}, operator);
    expect((await run).status).toBe('finished');
    const retries = events.filter((e) => e.type === 'retry');
    expect(retries).toEqual([
      { type: 'retry', step: 0, what: 'screenshot', attempt: 1, attempts: 3, delayMs: 1, error: 'capture failed (scripted)' },
      { type: 'retry', step: 0, what: 'screenshot', attempt: 2, attempts: 3, delayMs: 2, error: 'capture failed (scripted)' },
    ]);
  });

  test('screenshot retries are bounded', async () => {
    const { run } = setup([DONE], {}, new RecordingOperator({ failScreenshots: 3 }));
    expect(await run).toMatchObject({ status: 'error', reason: 'capture failed (scripted)' });
  });

  test("a model's error is not retried by the loop (a model that retries does so inside, once)", async () => {
    const { run, model } = setup([new Error('down'), DONE]);
    expect(await run).toMatchObject({ status: 'error', reason: 'down' });
    expect(model.requests).toHaveLength(1);
  });

  test("the model's own retries are announced as retry events of the step", async () => {
    const { run, events } = setup([
      (request) => {
        request.onRetry?.({ attempt: 1, attempts: 3, delayMs: 500, error: 'answered 503 (server error)' });
        return click(0.1, 0.1);
      },
      DONE,
    ]);
    expect((await run).status).toBe('finished');
    expect(events.filter((e) => e.type === 'retry')).toEqual([{ type: 'retry', step: 1, what: 'model', attempt: 1, attempts: 3, delayMs: 500, error: 'answered 503 (server error)' }]);
  });

  test('errors that say retrying is pointless are not retried', async () => {
    const { run, model } = setup([new ModelEndpointError('answered 401 (the API key was refused)', 401, false), DONE]);
    expect(await run).toMatchObject({ status: 'error', reason: 'answered 401 (the API key was refused)' });
    expect(model.requests).toHaveLength(1);
  });

  test('a reply that does not parse is fed back once as a correction', async () => {
    const { run, events, model, operator } = setup(['I think I should click File.', click(0.1, 0.1), DONE]);
    expect((await run).status).toBe('finished');
    const correction = events.find((e) => e.type === 'correction');
    expect(correction).toMatchObject({ step: 1, error: expect.stringContaining('no ## Code: section') });
    const retry = model.requests[1]!.messages;
    expect(retry.at(-2)).toEqual({ role: 'assistant', content: 'I think I should click File.' });
    expect(retry.at(-1)!.content).toMatch(/^Your reply could not be used: the reply has no ## Code: section/);
    expect(operator.executed).toHaveLength(1);
  });

  test('an action the operator refuses is fed back before anything of the step runs', async () => {
    const operator = new RecordingOperator({ refuse: (a) => (a.kind === 'press' && a.key === 'é' ? "the keyboard layout has no key for 'é'" : undefined) });
    const { run, events, model } = setup([code("pyautogui.click(0.5, 0.5)\npyautogui.press('é')"), code("pyautogui.click(0.5, 0.5)\npyautogui.write('é')"), DONE], {}, operator);
    expect((await run).status).toBe('finished');
    expect(events.find((e) => e.type === 'correction')).toEqual({ type: 'correction', step: 1, error: "the keyboard layout has no key for 'é'" });
    expect(model.requests[1]!.messages.at(-1)!.content).toMatch(/^Your reply could not be used: the keyboard layout has no key for 'é'/);
    // The refused reply's click never ran: only the corrected step's actions did.
    expect(operator.executed.map((a) => a.kind)).toEqual(['click', 'type']);
  });

  test('a second unusable reply fails the run', async () => {
    const { run, operator } = setup(['no code', code('import os'), DONE]);
    const result = await run;
    expect(result.status).toBe('error');
    expect(result.reason).toContain("after a correction: could not read the code: line 1: importing 'os' is not allowed");
    expect(operator.executed).toEqual([]);
  });

  test('confirm mode: the person sees the plan first and can decline', async () => {
    const seen: number[] = [];
    const { run, operator, types } = setup([click(0.5, 0.5), click(0.6, 0.6)], {
      confirm: async (plan) => {
        seen.push(plan.step);
        expect(plan.desktopActions).toHaveLength(1);
        return plan.step === 1;
      },
    });
    expect(await run).toMatchObject({ status: 'aborted', reason: 'step 2 was declined', steps: 1 });
    expect(seen).toEqual([1, 2]);
    expect(operator.executed).toHaveLength(1);
    expect(types().filter((t) => t === 'awaiting_confirmation')).toHaveLength(2);
  });

  test('settle waits for two matching captures after acting', async () => {
    const { run, operator } = setup([click(0.5, 0.5), DONE]);
    await run;
    // initial + (changed, still) after the click; DONE takes no capture.
    expect(operator.screenshotCalls).toBe(3);
  });

  test('prompts carry the task, older steps as text and only the last N screenshots', async () => {
    const { run, model } = setup([click(0.1, 0.1), click(0.2, 0.2), click(0.3, 0.3), DONE], { screenshotsInContext: 2 });
    await run;
    const images = (i: number) => model.requests[i]!.messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content.filter((p) => p.type === 'image')));
    expect([0, 1, 2, 3].map((i) => images(i).length)).toEqual([1, 2, 2, 2]);
    const last = model.requests[3]!.messages;
    expect(last[0]!.role).toBe('system');
    expect(last[1]!.content).toContain('Task: open the File menu');
    expect(last[1]!.content).toContain('Step 1: Do the next thing. — pyautogui.click(x=0.1, y=0.1)');
    expect(last[1]!.content).toContain('Step 2: Do the next thing. — pyautogui.click(x=0.2, y=0.2)');
    expect(last.at(-2)).toEqual({ role: 'assistant', content: click(0.3, 0.3) });
    expect(model.requests[0]!.temperature).toBe(0.2);
  });

  test('prepareStep sees each step\'s history and what it returns is what the model is sent', async () => {
    const seen: { step: number; kept: number }[] = [];
    const { run, model } = setup([click(0.1, 0.1), click(0.2, 0.2), DONE], {
      prepareStep: ({ step, history }) => {
        seen.push({ step, kept: history.length });
        return history.slice(-1); // a history hook may forget: only the step before goes back
      },
    });
    expect(await run).toMatchObject({ status: 'finished', steps: 3 });
    expect(seen).toEqual([{ step: 1, kept: 0 }, { step: 2, kept: 1 }, { step: 3, kept: 2 }]);
    const task = model.requests[2]!.messages[1]!.content as string;
    expect(task).not.toContain('Step 1:');
    expect(model.requests[2]!.messages.filter((m) => m.role === 'assistant')).toEqual([{ role: 'assistant', content: click(0.2, 0.2) }]);
  });

  test('the default history hook keeps only the screenshots a request can carry', () => {
    const shot = { mimeType: 'image/png' as const, data: new Uint8Array(1) };
    const history = [1, 2, 3, 4].map((n) => ({ response: `r${n}`, screenshot: shot }));
    expect(keepRecentScreenshots(3)({ step: 5, history }).map((h) => h.screenshot !== undefined)).toEqual([false, false, true, true]);
    expect(keepRecentScreenshots(1)({ step: 5, history }).every((h) => h.screenshot === undefined && h.response)).toBe(true);
  });

  test('the time limit also ends the run right after a step, marking that step the last', async () => {
    const steps: { step_num: number; done: boolean }[] = [];
    const recorder = { start: async () => undefined, step: async (s: { step_num: number; done: boolean }) => void steps.push(s), finish: async () => undefined };
    // The pause after the step's one action runs the clock out: the step is done, the next never starts.
    const { run } = setup([click(0.1, 0.5), click(0.2, 0.5)], { timeLimitMs: 30, actionDelayMs: 60, recorder });
    expect(await run).toMatchObject({ status: 'time_limit', steps: 1 });
    expect(steps.map((s) => [s.step_num, s.done])).toEqual([[1, true]]);
  });

  test('Thinking: previous replies go back without their reasoning', async () => {
    const thought = `◁think▷The menu is top left.◁/think▷${click(0.1, 0.1)}`;
    const { run, model, events } = setup([thought, DONE], { variant: 'thinking' });
    await run;
    expect(model.requests[1]!.messages.at(-2)).toEqual({ role: 'assistant', content: click(0.1, 0.1) });
    expect(model.requests[0]!.maxTokens).toBe(2048);
    expect(events.find((e) => e.type === 'planned')).toMatchObject({ thinking: 'The menu is top left.' });
  });
});
