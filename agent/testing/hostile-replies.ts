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
  // line breaks: the reply is split into lines first
  ['action+newlines', '## Action:', '\n'],
  ['blank lines', '', ' \n'],
  ['carriage returns', '', '\r'],
  ['code+newlines', '## Code:\n', '\n'],
  // headings and fences: where the code block starts and ends
  ['headings', '', '## Action:\n'],
  ['inline headings', '', '## Code: ## Action:'],
  ['fences', '', '```\n'],
  ['backticks', '## Code:\n', '``'],
  // calls and their arguments
  ['many calls', '## Code:\n```python\n', 'pyautogui.click(0.5, 0.5)\n'],
  ['bare calls', '', 'pyautogui.press("a")\n'],
  ['open brackets', '## Code:\npyautogui.click(', '['],
  ['hotkey args', '## Code:\npyautogui.hotkey(', "'a', ", ')'],
  ['digits', '## Code:\npyautogui.click(', '1'],
  // string contents
  ['long key name', '## Code:\npyautogui.press("', 'a', '")'],
  ['long text', '## Code:\npyautogui.write("', 'text ', '")'],
  ['escapes', '## Code:\npyautogui.write("', '\\n', '")'],
  ['raw backslashes', '## Code:\npyautogui.write(r"', '\\\\'],
  // string boundaries
  ['unclosed string', '## Code:\npyautogui.write("', 'a'],
  ['adjacent strings', '## Code:\npyautogui.write(', '"a" ', ')'],
  ['triple quote', '## Code:\npyautogui.write("""', 'a\n'],
  // statements
  ['semicolons', '## Code:\n', ';'],
  ['comments', '## Code:\n', '#\n'],
  ['words', '## Code:\n', 'WAIT\n'],
  ['imports', '## Code:\nimport ', 'time, '],
  // names
  ['dotted name', '## Code:\n', 'a.'],
  ['long name', '## Code:\n', 'a'],
  // the rest: blanks, reasoning markers, terminal control
  ['spaces', '', ' ', 'x'],
  ['think markers', '', '◁think▷'],
  ['close markers', '', '◁/think▷'],
  ['control chars', '', '\x1b[2J\x00'],
];

/** Each shape's name → a reply of that shape of at most `size` characters. */
export const HOSTILE_REPLIES: Readonly<Record<string, (size: number) => string>> = Object.fromEntries(
  SHAPES.map(([name, head, unit, tail]) => [name, (size: number) => fill(size, head, unit, tail)]),
);
