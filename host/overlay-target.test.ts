import { expect, test } from 'vitest';
import type { AgentEvent, DisplayInfo } from '../agent/types.ts';
import { guardCapture } from './capture-guard.ts';
import { overlayMark } from './overlay-target.ts';

const displays: DisplayInfo[] = [
  { id: 'left', name: 'L', bounds: { x: -1920, y: 0, width: 1920, height: 1080 }, scaleFactor: 1, primary: false },
  { id: 'main', name: 'M', bounds: { x: 0, y: 0, width: 1440, height: 900 }, scaleFactor: 2, primary: true },
];

const planned = (desktopActions: AgentEvent & { type: 'planned' } extends { desktopActions: infer A } ? A : never): AgentEvent => ({
  type: 'planned',
  step: 4,
  response: '',
  actions: [],
  desktopActions,
  modelMs: 10,
});

test('the overlay mark lands on the display that holds the target, relative to it', () => {
  expect(overlayMark(planned([{ kind: 'click', button: 'left', count: 2, at: { x: -100, y: 50 } }]), displays)).toEqual({
    displayId: 'left',
    x: 1820,
    y: 50,
    label: 'double-click',
    step: 4,
  });
  expect(overlayMark(planned([{ kind: 'type', text: 'hi' }, { kind: 'move', to: { x: 10, y: 20 } }]), displays)).toMatchObject({
    displayId: 'main',
    label: 'move',
  });
  expect(overlayMark(planned([{ kind: 'type', text: 'no target' }]), displays)).toBeUndefined();
  expect(overlayMark({ type: 'step_started', step: 1 }, displays)).toBeUndefined();
});

test('on X11 the overlay is hidden while the screenshot is taken and shown again after', async () => {
  const log: string[] = [];
  const operator = {
    displays: async () => displays,
    execute: async () => void log.push('execute'),
    screenshot: async () => {
      log.push('capture');
      return { png: new Uint8Array(1), width: 1, height: 1, display: displays[1]!, capturedAt: 0 };
    },
  };
  const drawing = { hide: async () => void log.push('hide'), show: () => void log.push('show') };
  await guardCapture(operator, drawing, true).screenshot();
  await guardCapture(operator, drawing, true).execute({ kind: 'wait', seconds: 0 });
  expect(log).toEqual(['hide', 'capture', 'show', 'execute']);
  log.length = 0;
  await guardCapture(operator, drawing, false).screenshot();
  expect(log).toEqual(['capture']);
});
