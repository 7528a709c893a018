import { describe, expect, test } from 'vitest';
import { formatSummary, pointInBox, summarize } from './metric.ts';

const box = { x1: 10, y1: 20, x2: 30, y2: 40 };

describe('the ScreenSpot metric', () => {
  test.each([
    [{ x: 20, y: 30 }, true],
    [{ x: 10, y: 20 }, true],
    [{ x: 30, y: 40 }, true],
    [{ x: 30.001, y: 40 }, false],
    [{ x: 9.999, y: 30 }, false],
    [{ x: 20, y: 41 }, false],
    [{ x: Number.NaN, y: 30 }, false],
    [null, false],
  ])('point %j inside the box (edges included) is %s', (point, inside) => {
    expect(pointInBox(point, box)).toBe(inside);
  });

  test('accuracy is tallied overall and per type, platform, application and group', () => {
    const summary = summarize([
      { correct: true, dataType: 'text', platform: 'web', application: 'a', group: 'Dev' },
      { correct: false, dataType: 'icon', platform: 'web', application: 'a', group: 'Dev' },
      { correct: true, dataType: 'icon', platform: 'mac', application: 'b' },
      { correct: false, dataType: 'icon', platform: 'mac', application: 'b' },
    ]);
    expect(summary.overall).toEqual({ total: 4, correct: 2, accuracy: 0.5 });
    expect(summary.byDataType).toEqual({
      icon: { total: 3, correct: 1, accuracy: 1 / 3 },
      text: { total: 1, correct: 1, accuracy: 1 },
    });
    expect(summary.byPlatform.web).toEqual({ total: 2, correct: 1, accuracy: 0.5 });
    expect(summary.byGroup).toEqual({ Dev: { total: 2, correct: 1, accuracy: 0.5 } });
    expect(formatSummary(summary).split('\n')).toEqual([
      'overall: 50.00% (2/4)',
      'type icon: 33.33% (1/3)',
      'type text: 100.00% (1/1)',
      'platform mac: 50.00% (1/2)',
      'platform web: 50.00% (1/2)',
      'application a: 50.00% (1/2)',
      'application b: 50.00% (1/2)',
      'group Dev: 50.00% (1/2)',
    ]);
  });

  test('an empty set has accuracy 0, not NaN', () => {
    expect(summarize([]).overall).toEqual({ total: 0, correct: 0, accuracy: 0 });
  });
});
