import { targetOf, type DesktopAction } from '../shared/actions.ts';
import type { AgentEvent, DisplayInfo } from '../agent/types.ts';

/** What one display's overlay shows: where the next action lands, what it is, which step. */
export interface OverlayMark {
  readonly displayId: string;
  /** Relative to the display's top-left corner, in logical units. */
  readonly x: number;
  readonly y: number;
  readonly label: string;
  readonly step: number;
}

function labelOf(action: DesktopAction): string {
  switch (action.kind) {
    case 'click':
      return `${action.count === 2 ? 'double-' : action.count === 3 ? 'triple-' : ''}${action.button === 'left' ? '' : `${action.button} `}click`;
    case 'type':
      return `type “${action.text.length > 30 ? `${action.text.slice(0, 30)}…` : action.text}”`;
    case 'hotkey':
      return action.keys.join('+');
    case 'press':
      return `press ${action.key}`;
    case 'scroll':
      return `scroll ${action.direction}`;
    default:
      return action.kind.replace('_', ' ');
  }
}

/** The mark for a `planned` event: the first action with a target, on the display that holds it. */
export function overlayMark(event: AgentEvent, displays: readonly DisplayInfo[]): OverlayMark | undefined {
  if (event.type !== 'planned') return undefined;
  for (const action of event.desktopActions) {
    const point = targetOf(action);
    if (!point) continue;
    const display = displays.find(
      (d) =>
        point.x >= d.bounds.x &&
        point.y >= d.bounds.y &&
        point.x < d.bounds.x + d.bounds.width &&
        point.y < d.bounds.y + d.bounds.height,
    );
    if (!display) return undefined;
    return {
      displayId: display.id,
      x: point.x - display.bounds.x,
      y: point.y - display.bounds.y,
      label: labelOf(action),
      step: event.step,
    };
  }
  return undefined;
}
