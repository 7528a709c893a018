import { describe, expect, test } from 'vitest';
import type { LoadProgress } from '../../native-models/index.ts';
import { showLoadProgress } from './load-model.ts';
import { ProgressBar } from './progress-bar.ts';

/** A stand-in for process.stderr that keeps what was written. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, columns: 60, text: '', write: (chunk: string) => ((s.text += chunk), true) };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

const T = 1000;
const LOAD: LoadProgress[] = [
  { phase: 'weights', done: 0, total: T, detail: 'reading 0.00 GB of weights', indeterminate: false },
  ...[100, 200, 300, 400, 500, 600, 700, 800, 900, 1000].map((done) => ({ phase: 'weights' as const, done, total: T, detail: 'text-model.onnx.data', indeterminate: false })),
  { phase: 'text', done: T, total: T, detail: 'creating the language model session on the CPU', indeterminate: true },
  { phase: 'vision', done: T, total: T, detail: 'creating the vision session on the CPU', indeterminate: true },
  { phase: 'ready', done: T, total: T, detail: 'loaded in 1.2 s', indeterminate: false },
];

describe('load progress on stderr', () => {
  test('on a pipe: the weights a quarter at a time, then one plain line per phase', () => {
    const out = stream(false);
    LOAD.forEach(showLoadProgress(new ProgressBar(out, 30, 4)));
    expect(out.text).toBe(
      [
        'loading weights   0% (0/1000) reading 0.00 GB of weights',
        'loading weights  30% (300/1000) text-model.onnx.data',
        'loading weights  50% (500/1000) text-model.onnx.data',
        'loading weights  80% (800/1000) text-model.onnx.data',
        'loading weights 100% (1000/1000) text-model.onnx.data',
        'loading model: creating the language model session on the CPU',
        'loading model: creating the vision session on the CPU',
        'model loaded in 1.2 s',
        '',
      ].join('\n'),
    );
  });

  test('on a terminal: the bar is redrawn in place, each later phase replaces it and the load ends on a fresh line', () => {
    const out = stream(true);
    LOAD.forEach(showLoadProgress(new ProgressBar(out, 10, 4)));
    const redraws = out.text.split('\r').slice(1);
    expect(redraws).toHaveLength(LOAD.length);
    expect(redraws.every((r) => r.replace('\n', '').length === 59)).toBe(true);
    expect(redraws[5]).toMatch(/^loading weights █████░░░░░  50% text-model\.onnx\.data +$/);
    expect(redraws[10]).toMatch(/^loading weights ██████████ 100% text-model\.onnx\.data +\n$/);
    expect(redraws.slice(11).map((r) => r.trimEnd())).toEqual([
      'loading model: creating the language model session on the CPU'.slice(0, 59),
      'loading model: creating the vision session on the CPU',
      'model loaded in 1.2 s',
    ]);
    expect(out.text.endsWith('\n')).toBe(true);
  });

  test('on a terminal, a load that fails half-way ends the bar\'s line so the error starts on its own', async () => {
    const out = stream(true);
    const bar = new ProgressBar(out, 10, 4);
    LOAD.slice(0, 4).forEach(showLoadProgress(bar));
    expect(out.text.endsWith('\n')).toBe(false);
    bar.end();
    bar.end();
    expect(out.text.endsWith(' \n')).toBe(true);
    expect(out.text.split('\n')).toHaveLength(2);
  });

  test('a skipped read-ahead is one line saying why', () => {
    const out = stream(false);
    showLoadProgress(new ProgressBar(out, 30, 4))({ phase: 'weights', done: 0, total: T, detail: 'not reading ahead: too big', indeterminate: true });
    expect(out.text).toBe('loading weights: not reading ahead: too big\n');
  });
});
