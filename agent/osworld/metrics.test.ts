import { describe, expect, test } from 'vitest';
import { METRICS } from './metrics.ts';

const m = (name: string, result: unknown, expected?: unknown, options: Record<string, unknown> = {}) =>
  METRICS.get(name)!(result, expected, options);

describe('OSWorld metrics', () => {
  test('exact_match compares the whole value, trailing newline included', () => {
    expect(m('exact_match', 'false\n', { expected: 'false\n' })).toBe(1);
    expect(m('exact_match', 'false', { expected: 'false\n' })).toBe(0);
    expect(m('exact_match', ['a', 1], { expected: ['a', 1] })).toBe(1);
    expect(m('exact_match', null, { expected: null })).toBe(0);
  });

  test('check_include_exclude needs every include and no exclude', () => {
    const rules = { include: ['43 132'], exclude: ['error'] };
    expect(m('check_include_exclude', '$ stty size\n43 132\n', rules)).toBe(1);
    expect(m('check_include_exclude', '24 80', rules)).toBe(0);
    expect(m('check_include_exclude', '43 132 error', rules)).toBe(0);
    expect(m('check_include_exclude', null, rules)).toBe(0);
  });

  test('match_in_list, is_in_list and literal_match', () => {
    expect(m('match_in_list', 'b', { expected: ['a', 'b'] })).toBe(1);
    expect(m('match_in_list', 'c', { expected: ['a', 'b'] })).toBe(0);
    expect(m('is_in_list', ['x', 'y'], { expected: 'y' })).toBe(1);
    expect(m('is_in_list', 'hay needle', { expected: 'needle' })).toBe(1);
    expect(m('literal_match', 'ABC', 'abc', { ignore_case: true })).toBe(1);
    expect(m('literal_match', 'ABC', 'abc')).toBe(0);
    expect(m('literal_match', ['A', 'b'], ['a', 'B'], { type: 'list', ignore_case: true })).toBe(1);
    expect(m('literal_match', ['a'], ['a', 'b'], { type: 'list' })).toBe(0);
  });
});
