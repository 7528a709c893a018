import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Action } from '../actions.ts';
import { parseKimiResponse } from './kimi-response.ts';

// Pieces that the parser's grammar cares about, so random mixes reach deep paths, not just the lexer.
const fragments = fc.constantFrom(
  '## Action:', '## Code:', '```python', '```', '\n', ' ', 'pyautogui.', 'computer.', 'click', 'write', 'press',
  'hotkey', 'terminate', 'scroll', '(', ')', '[', ']', ',', '=', 'x=', 'y=', '0.5', '-3', '1e9', "'", '"', '\\',
  '◁think▷', '◁/think▷', 'import', 'os', ';', '#', 'DONE', 'WAIT', 'True', 'None', '__proto__', 'constructor', '世界',
  // Escapes, string prefixes and line breaks of every kind: a bad escape followed by a line break
  // once put the line break into the error message.
  '\\x', '\\x4', '\\u00', '\\U0011ffff', '\\N', 'r"', "r'", "'''", '"""', '\r', '\r\n', '\u2028', '\u2029', '\t', '\x1b[2J', '\x00', '\x85',
);
const messy = fc.array(fc.oneof(fragments, fc.string(), fc.string({ unit: 'grapheme' })), { maxLength: 40 }).map((parts) => parts.join(''));

function wellFormed(result: ReturnType<typeof parseKimiResponse>): void {
  if (result.ok) {
    expect(result.actions.length).toBeGreaterThan(0);
  } else {
    expect(typeof result.error).toBe('string');
    expect(result.error.length).toBeGreaterThan(0);
    // One line, without the reply's control characters, and short whatever the reply's size.
    expect(result.error).not.toMatch(/[\n\r\u2028\u2029\x00-\x1f\x7f-\x9f]/);
    expect(result.error.length).toBeLessThan(500);
    expect(result.error).not.toMatch(/could not be read/);
  }
}

describe('fuzzing', () => {
  test('arbitrary text never throws and always gives an action list or a one-line error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), messy), (reply) => {
        wellFormed(parseKimiResponse(reply));
        wellFormed(parseKimiResponse(reply, { imageSize: { width: 1920, height: 1080 } }));
      }),
      { numRuns: 3000 },
    );
  });

  test.each([
    ['a bad \\x escape then a line break', '## Code:\npyautogui.write("\\x4\nabc")'],
    ['a bad \\u escape then a carriage return', "pyautogui.write('\\u00\r')"],
    ['a long name', `## Code:\n${'a'.repeat(100_000)}`],
    ['a long callee', `## Code:\n${'a.'.repeat(1000)}b()`],
    ['a long argument', `pyautogui.press("${'x\\n'.repeat(1000)}")`],
    ['a long number', `pyautogui.click(${'9'.repeat(400)})`],
    ['terminal escapes in prose', '## Action:\n\x1b[2J\x1b]0;owned\x07 hello'],
    ['a paragraph separator in a key name', "pyautogui.press('a\u2028b')"],
  ])('%s gives a short one-line error', (_name, reply) => {
    wellFormed(parseKimiResponse(reply));
  });

  const unit = fc.double({ min: 0, max: 1, noNaN: true }).map((v) => Math.round(v * 1000) / 1000);
  const text = fc.string({ unit: 'grapheme', maxLength: 30 });
  const generated: fc.Arbitrary<[string, Action]> = fc.oneof(
    fc.tuple(unit, unit).map(([x, y]): [string, Action] => [`pyautogui.click(x=${x}, y=${y})`, { kind: 'click', button: 'left', count: 1, at: { x, y } }]),
    fc.tuple(unit, unit).map(([x, y]): [string, Action] => [`pyautogui.moveTo(${x}, ${y})`, { kind: 'move', to: { x, y } }]),
    text.map((t): [string, Action] => [`pyautogui.write(${JSON.stringify(t)})`, { kind: 'type', text: t }]),
    fc.integer({ min: 1, max: 50 }).map((n): [string, Action] => [`pyautogui.scroll(-${n})`, { kind: 'scroll', direction: 'down', amount: n }]),
  );

  test('generated valid code round-trips into the expected actions', () => {
    fc.assert(
      fc.property(fc.array(generated, { minLength: 1, maxLength: 6 }), fc.boolean(), (items, fenced) => {
        const code = items.map(([line]) => line).join('\n');
        const body = fenced ? `\`\`\`python\n${code}\n\`\`\`` : code;
        const result = parseKimiResponse(`## Action:\nsteps\n## Code:\n${body}`);
        expect(result.ok && result.actions).toEqual(items.map(([, action]) => action));
      }),
      { numRuns: 500 },
    );
  });
});
