/**
 * Replies built to make a parser slow: long runs of what a grammar loops over (line breaks,
 * headings, fences, brackets, separators, escapes) up to a given size. Shared by the parser's
 * test and scripts/bench-parser.ts.
 */

/** `head`, then `unit` repeated, then `tail`, `size` characters at most. */
function fill(size: number, head: string, unit: string, tail = ''): string {
  return head + unit.repeat(Math.max(0, Math.floor((size - head.length - tail.length) / unit.length))) + tail;
}

/** Each shape: its name, then fill's head, unit and tail. */
const SHAPES: readonly (readonly [name: string, head: string, unit: string, tail?: string])[] = [
  ['action+newlines', '## Action:', '\n'],
  ['blank lines', '', ' \n'],
  ['carriage returns', '', '\r'],
  ['code+newlines', '## Code:\n', '\n'],
  ['headings', '', '## Action:\n'],
  ['inline headings', '', '## Code: ## Action:'],
  ['fences', '', '```\n'],
  ['backticks', '## Code:\n', '``'],
  ['many calls', '## Code:\n```python\n', 'pyautogui.click(0.5, 0.5)\n'],
  ['bare calls', '', 'pyautogui.press("a")\n'],
  ['open brackets', '## Code:\npyautogui.click(', '['],
  ['hotkey args', '## Code:\npyautogui.hotkey(', "'a', ", ')'],
  ['long key name', '## Code:\npyautogui.press("', 'a', '")'],
  ['long text', '## Code:\npyautogui.write("', 'text ', '")'],
  ['unclosed string', '## Code:\npyautogui.write("', 'a'],
  ['escapes', '## Code:\npyautogui.write("', '\\n', '")'],
  ['adjacent strings', '## Code:\npyautogui.write(', '"a" ', ')'],
  ['semicolons', '## Code:\n', ';'],
  ['dotted name', '## Code:\n', 'a.'],
  ['long name', '## Code:\n', 'a'],
  ['digits', '## Code:\npyautogui.click(', '1'],
  ['comments', '## Code:\n', '#\n'],
  ['spaces', '', ' ', 'x'],
  ['think markers', '', '◁think▷'],
  ['close markers', '', '◁/think▷'],
  ['words', '## Code:\n', 'WAIT\n'],
  ['imports', '## Code:\nimport ', 'time, '],
  ['triple quote', '## Code:\npyautogui.write("""', 'a\n'],
  ['raw backslashes', '## Code:\npyautogui.write(r"', '\\\\'],
  ['control chars', '', '\x1b[2J\x00'],
];

/** Each shape's name → a reply of that shape of at most `size` characters. */
export const HOSTILE_REPLIES: Readonly<Record<string, (size: number) => string>> = Object.fromEntries(
  SHAPES.map(([name, head, unit, tail]) => [name, (size: number) => fill(size, head, unit, tail)]),
);
