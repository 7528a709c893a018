import type { DisplayInfo } from '../../agent/operator.ts';

// One 2048×768 Xvfb screen described as two side-by-side monitors (Xvfb's RandR cannot add
// monitors): the operator must capture and act on the right one with its origin offset,
// exactly as on a real dual-head desktop.
export const TWO_MONITORS = { width: 2048, height: 768 } as const;
export const LEFT: DisplayInfo = { id: '0', name: 'left', bounds: { x: 0, y: 0, width: 1024, height: 768 }, scaleFactor: 1, primary: true };
export const RIGHT: DisplayInfo = { id: '1', name: 'right', bounds: { x: 1024, y: 0, width: 1024, height: 768 }, scaleFactor: 1, primary: false };
