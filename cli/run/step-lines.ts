import type { AgentEvent, DesktopAction, RunStatus } from '../../agent/index.ts';

const point = (p: { x: number; y: number } | undefined): string => (p ? ` at ${Math.round(p.x)},${Math.round(p.y)}` : '');

/** One short phrase per action, in desktop coordinates. */
export function describeAction(action: DesktopAction): string {
  switch (action.kind) {
    case 'click': {
      const what = ['', 'click', 'double-click', 'triple-click'][action.count];
      return `${action.button === 'left' ? '' : `${action.button} `}${what}${point(action.at)}`;
    }
    case 'move':
      return `move${point(action.to)}`;
    case 'drag':
      return `drag${action.from ? ` from ${Math.round(action.from.x)},${Math.round(action.from.y)}` : ''} to ${Math.round(action.to.x)},${Math.round(action.to.y)}`;
    case 'mouse_down':
    case 'mouse_up':
      return `${action.button} ${action.kind === 'mouse_down' ? 'down' : 'up'}${point(action.at)}`;
    case 'scroll':
      return `scroll ${action.direction} ${action.amount}${point(action.at)}`;
    case 'type':
      return `type ${JSON.stringify(action.text.length > 40 ? `${action.text.slice(0, 40)}…` : action.text)}`;
    case 'press':
      return `press ${action.key}${action.presses > 1 ? ` ×${action.presses}` : ''}`;
    case 'hotkey':
      return `hotkey ${action.keys.join('+')}`;
    case 'key_down':
    case 'key_up':
      return `${action.key} ${action.kind === 'key_down' ? 'down' : 'up'}`;
    case 'wait':
      return `wait ${action.seconds} s`;
    case 'finished':
      return action.answer !== undefined ? `done (answer: ${JSON.stringify(action.answer)})` : 'done';
    case 'fail':
      return 'give up';
    case 'call_user':
      return 'ask for the person';
  }
}

export const EXIT_CODES: Readonly<Record<RunStatus, number>> = {
  finished: 0,
  failed: 1,
  error: 1,
  call_user: 3,
  max_steps: 4,
  repeated_action: 4,
  time_limit: 4,
  aborted: 5,
};

/** Turns events into the lines `kestrel run` prints: a header, one line per step, a final status. */
export function lineFor(event: AgentEvent, planned: Map<number, Extract<AgentEvent, { type: 'planned' }>>): string | undefined {
  switch (event.type) {
    case 'run_started': {
      const d = event.display;
      return `run ${event.runId}: ${JSON.stringify(event.instruction)} with ${event.model} on display ${d.name} (${d.bounds.width}×${d.bounds.height}${d.bounds.x >= 0 ? '+' : ''}${d.bounds.x}${d.bounds.y >= 0 ? '+' : ''}${d.bounds.y})`;
    }
    case 'planned':
      planned.set(event.step, event);
      return undefined;
    case 'step_finished': {
      const plan = planned.get(event.step);
      if (!plan) return undefined;
      const actions = plan.desktopActions.map(describeAction).join('; ');
      const said = /## Action:\s*([^\n]+)/.exec(plan.response)?.[1]?.trim();
      return `step ${event.step}: ${actions}${said ? ` — ${said}` : ''} (model ${(plan.modelMs / 1000).toFixed(1)} s)`;
    }
    case 'run_finished':
      return `${event.status} after ${event.steps} step${event.steps === 1 ? '' : 's'} in ${(event.durationMs / 1000).toFixed(1)} s: ${event.reason}${event.answer !== undefined ? `\nanswer: ${event.answer}` : ''}`;
    default:
      return undefined;
  }
}
