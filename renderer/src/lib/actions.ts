import type { Action, NormalizedPoint } from '../../../host/ui-types.ts';
import { describeAction as describeActionIn, type ActionWording } from '../../../shared/actions.ts';

export { targetsOf } from '../../../shared/actions.ts';

/** Fractions of the screenshot, and model text in typographic quotes (the page escapes it). */
const PAGE: ActionWording<NormalizedPoint> = {
  point: (p) => `(${p.x.toFixed(3)}, ${p.y.toFixed(3)})`,
  quote: (text) => `“${text}”`,
};

/** One short line per action, for the timeline and screen readers. */
export const describeAction = (action: Action): string => describeActionIn(action, PAGE);

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
