// The agent's light entry: the types that cross to the hosts and, through host/, to the
// renderer (run events, the operator seam, ScreenSpot results, actions, the model seam), and
// the run defaults, a plain constant. Nothing here runs Node or loads the loop, so the
// renderer's type check (which has no Node types) and `kestrel --help` can reach it.
export type * from '../shared/actions.ts';
export type * from '../shared/model.ts';
export type * from './events.ts';
export type { DisplayInfo, Operator, Rect, Screenshot } from './operator.ts';
export type { AccuracySummary, PixelBox, PixelPoint, ScreenSpotResult, Tally } from './screenspot/types.ts';
export { RUN_DEFAULTS } from './loop/defaults.ts';
