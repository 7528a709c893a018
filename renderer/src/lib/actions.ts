import type { Action, NormalizedPoint } from '../../../host/ui-types.ts';
import { targetOf } from '../../../shared/actions.ts';

export function targetsOf(actions: readonly Action[]): NormalizedPoint[] {
  return actions.map(targetOf).filter((p): p is NormalizedPoint => p !== undefined);
}

const at = (p: NormalizedPoint | undefined) => (p ? ` at (${p.x.toFixed(3)}, ${p.y.toFixed(3)})` : '');

/** One short line per action, for the timeline and screen readers. */
export function describeAction(action: Action): string {
  switch (action.kind) {
    case 'click': {
      const times = action.count === 2 ? 'double-' : action.count === 3 ? 'triple-' : '';
      const button = action.button === 'left' ? '' : `${action.button} `;
      return `${button}${times}click${at(action.at)}`;
    }
    case 'move':
      return `move${at(action.to)}`;
    case 'drag':
      return `drag${action.from ? ` from (${action.from.x.toFixed(3)}, ${action.from.y.toFixed(3)})` : ''} to (${action.to.x.toFixed(3)}, ${action.to.y.toFixed(3)})`;
    case 'mouse_down':
    case 'mouse_up':
      return `${action.kind.replace('_', ' ')} ${action.button}${at(action.at)}`;
    case 'scroll':
      return `scroll ${action.direction} ${action.amount}${at(action.at)}`;
    case 'type':
      return `type “${action.text}”`;
    case 'press':
      return `press ${action.key}${action.presses > 1 ? ` ×${action.presses}` : ''}`;
    case 'hotkey':
      return `hotkey ${action.keys.join('+')}`;
    case 'key_down':
    case 'key_up':
      return `${action.kind.replace('_', ' ')} ${action.key}`;
    case 'wait':
      return `wait ${action.seconds} s`;
    case 'finished':
      return `finished${action.answer ? `: ${action.answer}` : ''}`;
    case 'fail':
      return `fail${action.reason ? `: ${action.reason}` : ''}`;
    case 'call_user':
      return `ask the person${action.message ? `: ${action.message}` : ''}`;
  }
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
