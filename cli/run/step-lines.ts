import type { AgentEvent, DesktopAction, DesktopPoint, RunStatus } from '../../agent/index.ts';
import { describeAction as describeActionIn, type ActionWording } from '../../shared/actions.ts';

/** Desktop pixels, and model text as a JSON string (control characters escaped for the terminal), long text cut. */
const TERMINAL: ActionWording<DesktopPoint> = {
  point: (p) => `${Math.round(p.x)},${Math.round(p.y)}`,
  quote: (text) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text),
};

/** One short phrase per action, in desktop coordinates. */
export const describeAction = (action: DesktopAction): string => describeActionIn(action, TERMINAL);

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
