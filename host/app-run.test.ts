import { mkdtemp, rm } from 'node:fs/promises';
import { getEventListeners } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { AgentEvent } from '../agent/types.ts';
import { RecordingOperator } from '../agent/testing.ts';
import { startOpenAIServer, type OpenAITestServer } from '../test/harness/openai-server.ts';
import { testHostOptions } from '../test/harness/test-host.ts';
import { agentRunner } from './agent-bindings.ts';
import { guardCapture } from './capture-guard.ts';
import { createHost } from './host.ts';

let server: OpenAITestServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  server = dir = undefined;
});

const code = (body: string): string => `## Action:\nDo it.\n## Code:\n\`\`\`python\n${body}\n\`\`\``;

test("a run started from the app: the operator's refusal reaches the loop, Settings' pause is the one pacing, pausing holds it, and no listener is left per action", async () => {
  const presses = 30;
  server = await startOpenAIServer({
    replies: [code("pyautogui.press('f24')"), code(Array.from({ length: presses }, () => "pyautogui.press('a')").join('\n')), code("computer.terminate(status='success')")],
  });
  dir = await mkdtemp(join(tmpdir(), 'kestrel-app-run-'));
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);

  const executedAt: number[] = [];
  const listeners: number[] = [];
  let pausedAt = 0;
  const runs: { pause?: () => unknown; resume?: () => unknown } = {};
  // The app's desktop: the overlay guard around the real operator (here one that records).
  const operator = new RecordingOperator({ refuse: (a) => (a.kind === 'press' && a.key === 'f24' ? 'this keyboard layout has no F24 key' : undefined) });
  const execute = operator.execute.bind(operator);
  operator.execute = async (action, signal) => {
    await execute(action, signal);
    executedAt.push(performance.now());
    listeners.push(getEventListeners(signal!, 'abort').length);
    if (executedAt.length === 5) {
      pausedAt = performance.now();
      runs.pause!();
      setTimeout(() => runs.resume!(), 200);
    }
  };
  const drawing = { hide: async () => undefined, show: () => undefined };
  const host = await createHost(
    testHostOptions(dir, {
      sessionSettings: { backend: 'endpoint', endpointUrl: server.baseUrl, endpointModel: 'kimi-vl-test', actionDelayMs: 25, maxSteps: 5 },
      desktop: () => guardCapture(operator, drawing, true),
      runner: agentRunner,
    }),
  );
  Object.assign(runs, { pause: () => host.runs.pause(), resume: () => host.runs.resume() });
  const events: AgentEvent[] = [];
  host.runs.subscribe((e) => e.type === 'agent' && events.push(e.event));
  try {
    host.runs.start({ instruction: 'press a thirty times' });
    await host.runs.idle();
  } finally {
    process.off('warning', onWarning);
  }
  await new Promise((done) => setImmediate(done));

  expect(host.runs.current()).toMatchObject({ lastStatus: 'finished' });
  // The refusal went through the overlay guard: the model was asked again, F24 never pressed.
  expect(events.find((e) => e.type === 'correction')).toMatchObject({ step: 1, error: 'this keyboard layout has no F24 key' });
  expect(operator.executed).toHaveLength(presses);
  expect(operator.executed.every((a) => a.kind === 'press' && a.key === 'a')).toBe(true);
  // One pause path: the loop's own, announced once each way; nothing ran while paused.
  expect(events.filter((e) => e.type === 'paused' || e.type === 'resumed').map((e) => e.type)).toEqual(['paused', 'resumed']);
  expect(executedAt[5]! - pausedAt).toBeGreaterThanOrEqual(190);
  // One pacing: Settings' 25 ms between actions, from the loop.
  const gaps = executedAt.slice(1).map((t, i) => t - executedAt[i]!);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20);
  // No listener per action on the run's signal, and no MaxListenersExceededWarning.
  expect(Math.max(...listeners)).toBe(listeners[0]);
  expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
});
