import { describe, expect, test } from 'vitest';
import { StopStringMatcher } from './stop-strings.ts';

describe('StopStringMatcher', () => {
  test('a stop string split across deltas is never partly emitted', () => {
    const m = new StopStringMatcher(['<|stop|>', '\n\n']);
    const pushes = ['Hello <', '|st', 'op|> tail'].map((d) => m.push(d));
    expect(pushes.map((p) => p.emit)).toEqual(['Hello ', '', '']);
    expect(pushes.map((p) => p.stopped)).toEqual([false, false, true]);
  });

  test('held-back text is released when it turns out not to be a stop string', () => {
    const m = new StopStringMatcher(['STOP']);
    expect(m.push('ab ST').emit).toBe('ab ');
    expect(m.push('ART').emit).toBe('START');
    expect(m.push('ST').emit).toBe('');
    expect(m.flush()).toBe('ST');
  });

  test('the earliest stop string wins; no stop strings passes everything through', () => {
    expect(new StopStringMatcher(['b', 'a']).push('xxabc')).toEqual({ emit: 'xx', stopped: true });
    expect(new StopStringMatcher([]).push('anything')).toEqual({ emit: 'anything', stopped: false });
  });
});
