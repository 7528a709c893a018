import { expect, test } from 'vitest';
import type { ModelLoad } from '../../../host/ui-types.ts';
import { loadingStatus } from './model-load.ts';

const load = (over: Partial<ModelLoad>): ModelLoad => ({ dir: '/m', device: 'cpu', phase: 'weights', done: 0, total: 200, detail: 'text-model.onnx.data', indeterminate: false, ...over });

test.each([
  [load({ done: 0 }), 'Loading model… 0% (reading weights)', 0],
  [load({ done: 91 }), 'Loading model… 45% (reading weights)', 45],
  [load({ phase: 'text', done: 200, indeterminate: true, detail: 'creating the language model session on the CPU' }), 'Loading model… 100% (starting the language model)', 100],
  [load({ phase: 'vision', done: 200, indeterminate: true }), 'Loading model… 100% (starting the vision model)', 100],
  [load({ indeterminate: true, detail: 'not reading ahead: …' }), 'Loading model… (preparing)', undefined],
  [load({ phase: 'text', indeterminate: true }), 'Loading model… (starting the language model)', undefined],
])('%j → %s', (l, text, percent) => {
  expect(loadingStatus(l)).toEqual({ text, percent, detail: l.detail });
});

test('an ended load (or none) shows nothing', () => {
  expect(loadingStatus(undefined)).toBeUndefined();
  expect(loadingStatus(load({ phase: 'ready', done: 200 }))).toBeUndefined();
  expect(loadingStatus(load({ phase: 'failed', error: 'x' }))).toBeUndefined();
});
