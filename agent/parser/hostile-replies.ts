/**
 * Replies built to make a parser slow: long runs of what a grammar loops over (line breaks,
 * headings, fences, brackets, separators, escapes) up to a given size. Shared by the parser's
 * test and scripts/bench-parser.ts.
 */

/** `head`, then `unit` repeated, then `tail`, `size` characters at most. */
function fill(size: number, head: string, unit: string, tail = ''): string {
  return head + unit.repeat(Math.max(0, Math.floor((size - head.length - tail.length) / unit.length))) + tail;
}

export const HOSTILE_REPLIES: Readonly<Record<string, (size: number) => string>> = {
  'action+newlines': (n) => fill(n, '## Action:', '\n'),
  'blank lines': (n) => fill(n, '', ' \n'),
  'carriage returns': (n) => fill(n, '', '\r'),
  'code+newlines': (n) => fill(n, '## Code:\n', '\n'),
  headings: (n) => fill(n, '', '## Action:\n'),
  'inline headings': (n) => fill(n, '', '## Code: ## Action:'),
  fences: (n) => fill(n, '', '```\n'),
  backticks: (n) => fill(n, '## Code:\n', '``'),
  'many calls': (n) => fill(n, '## Code:\n```python\n', 'pyautogui.click(0.5, 0.5)\n'),
  'bare calls': (n) => fill(n, '', 'pyautogui.press("a")\n'),
  'open brackets': (n) => fill(n, '## Code:\npyautogui.click(', '['),
  'hotkey args': (n) => fill(n, '## Code:\npyautogui.hotkey(', "'a', ", ')'),
  'long key name': (n) => fill(n, '## Code:\npyautogui.press("', 'a', '")'),
  'long text': (n) => fill(n, '## Code:\npyautogui.write("', 'text ', '")'),
  'unclosed string': (n) => fill(n, '## Code:\npyautogui.write("', 'a'),
  escapes: (n) => fill(n, '## Code:\npyautogui.write("', '\\n', '")'),
  'adjacent strings': (n) => fill(n, '## Code:\npyautogui.write(', '"a" ', ')'),
  semicolons: (n) => fill(n, '## Code:\n', ';'),
  'dotted name': (n) => fill(n, '## Code:\n', 'a.'),
  'long name': (n) => fill(n, '## Code:\n', 'a'),
  digits: (n) => fill(n, '## Code:\npyautogui.click(', '1'),
  comments: (n) => fill(n, '## Code:\n', '#\n'),
  spaces: (n) => fill(n, '', ' ', 'x'),
  'think markers': (n) => fill(n, '', '◁think▷'),
  'close markers': (n) => fill(n, '', '◁/think▷'),
  words: (n) => fill(n, '## Code:\n', 'WAIT\n'),
  imports: (n) => fill(n, '## Code:\nimport ', 'time, '),
  'triple quote': (n) => fill(n, '## Code:\npyautogui.write("""', 'a\n'),
  'raw backslashes': (n) => fill(n, '## Code:\npyautogui.write(r"', '\\\\'),
  'control chars': (n) => fill(n, '', '\x1b[2J\x00'),
};
