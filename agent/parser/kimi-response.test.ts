import { describe, expect, test } from 'vitest';
import type { Action } from '../../shared/actions.ts';
import { HOSTILE_REPLIES } from '../testing/hostile-replies.ts';
import { parseKimiResponse } from './kimi-response.ts';
import { MAX_TOKENS } from './python-tokens.ts';

function actionsOf(reply: string, options = {}): readonly Action[] {
  const result = parseKimiResponse(reply, options);
  if (!result.ok) throw new Error(`expected a parse, got: ${result.error}`);
  return result.actions;
}

function errorOf(reply: string, options = {}): string {
  const result = parseKimiResponse(reply, options);
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.actions)}`);
  return result.error;
}

describe('Instruct-style replies', () => {
  test('## Action prose and a fenced ## Code block', () => {
    const reply = '## Action:\nClick the "File" menu in the top bar.\n\n## Code:\n```python\npyautogui.click(x=0.204, y=0.149)\n```';
    const result = parseKimiResponse(reply);
    expect(result).toEqual({
      ok: true,
      description: 'Click the "File" menu in the top bar.',
      code: 'pyautogui.click(x=0.204, y=0.149)',
      actions: [{ kind: 'click', button: 'left', count: 1, at: { x: 0.204, y: 0.149 } }],
    });
  });

  test.each<[string, string, Action[]]>([
    ['positional', 'pyautogui.click(0.5, 0.25)', [{ kind: 'click', button: 'left', count: 1, at: { x: 0.5, y: 0.25 } }]],
    ['no fence', 'pyautogui.doubleClick(x=0.1, y=0.9)', [{ kind: 'click', button: 'left', count: 2, at: { x: 0.1, y: 0.9 } }]],
    ['click with clicks and button', "pyautogui.click(x=0.3, y=0.4, clicks=2, button='right')", [{ kind: 'click', button: 'right', count: 2, at: { x: 0.3, y: 0.4 } }]],
    ['click here', 'pyautogui.click()', [{ kind: 'click', button: 'left', count: 1 }]],
    ['triple', 'pyautogui.tripleClick(x=0.5, y=0.5)', [{ kind: 'click', button: 'left', count: 3, at: { x: 0.5, y: 0.5 } }]],
    ['right', 'pyautogui.rightClick(0.7, 0.2)', [{ kind: 'click', button: 'right', count: 1, at: { x: 0.7, y: 0.2 } }]],
    ['middle', 'pyautogui.middleClick(x=0.7, y=0.2)', [{ kind: 'click', button: 'middle', count: 1, at: { x: 0.7, y: 0.2 } }]],
    ['tuple point', 'pyautogui.click((0.2, 0.3))', [{ kind: 'click', button: 'left', count: 1, at: { x: 0.2, y: 0.3 } }]],
    ['moveTo', 'pyautogui.moveTo(x=0.6, y=0.6, duration=0.5)', [{ kind: 'move', to: { x: 0.6, y: 0.6 } }]],
    [
      'drag as moveTo then dragTo',
      'pyautogui.moveTo(0.1, 0.2)\npyautogui.dragTo(0.8, 0.9, duration=1.0, button="left")',
      [{ kind: 'move', to: { x: 0.1, y: 0.2 } }, { kind: 'drag', button: 'left', to: { x: 0.8, y: 0.9 } }],
    ],
    ['mouseDown/Up', "pyautogui.mouseDown(button='left'); pyautogui.mouseUp(x=0.5, y=0.5)", [{ kind: 'mouse_down', button: 'left' }, { kind: 'mouse_up', button: 'left', at: { x: 0.5, y: 0.5 } }]],
    ['scroll down', 'pyautogui.scroll(-5)', [{ kind: 'scroll', direction: 'down', amount: 5 }]],
    ['scroll up at a point', 'pyautogui.scroll(3, x=0.5, y=0.4)', [{ kind: 'scroll', direction: 'up', amount: 3, at: { x: 0.5, y: 0.4 } }]],
    ['hscroll', 'pyautogui.hscroll(clicks=-2)', [{ kind: 'scroll', direction: 'left', amount: 2 }]],
    ['write', "pyautogui.write('hello world')", [{ kind: 'type', text: 'hello world' }]],
    ['typewrite with interval', 'pyautogui.typewrite("a:b", interval=0.05)', [{ kind: 'type', text: 'a:b' }]],
    ['write message kw', "pyautogui.write(message='x')", [{ kind: 'type', text: 'x' }]],
    ['typewrite key list', "pyautogui.typewrite(['a', 'enter'])", [{ kind: 'press', key: 'a', presses: 1 }, { kind: 'press', key: 'enter', presses: 1 }]],
    ['press', "pyautogui.press('Enter')", [{ kind: 'press', key: 'enter', presses: 1 }]],
    ['press with presses', "pyautogui.press('down', presses=3)", [{ kind: 'press', key: 'down', presses: 3 }]],
    ['press list', "pyautogui.press(['tab', 'tab'])", [{ kind: 'press', key: 'tab', presses: 1 }, { kind: 'press', key: 'tab', presses: 1 }]],
    ['press alias', "pyautogui.press('return')", [{ kind: 'press', key: 'enter', presses: 1 }]],
    ['hotkey varargs', "pyautogui.hotkey('ctrl', 'shift', 't')", [{ kind: 'hotkey', keys: ['ctrl', 'shift', 't'] }]],
    ['hotkey list', "pyautogui.hotkey(['Control', 'c'])", [{ kind: 'hotkey', keys: ['ctrl', 'c'] }]],
    ['keyDown/keyUp', "pyautogui.keyDown('shift')\npyautogui.keyUp('shift')", [{ kind: 'key_down', key: 'shift' }, { kind: 'key_up', key: 'shift' }]],
    ['computer.wait', 'computer.wait()', [{ kind: 'wait', seconds: 1 }]],
    ['computer.wait seconds', 'computer.wait(seconds=3)', [{ kind: 'wait', seconds: 3 }]],
    ['time.sleep', 'import time\ntime.sleep(0.5)', [{ kind: 'wait', seconds: 0.5 }]],
    ['terminate success', "computer.terminate(status='success')", [{ kind: 'finished' }]],
    ['terminate with answer', "computer.terminate(status='success', answer='42')", [{ kind: 'finished', answer: '42' }]],
    ['terminate failure', 'computer.terminate(status="failure")', [{ kind: 'fail' }]],
    ['bare WAIT', 'WAIT', [{ kind: 'wait', seconds: 1 }]],
    ['bare DONE', 'DONE', [{ kind: 'finished' }]],
    ['bare FAIL', 'FAIL', [{ kind: 'fail' }]],
    ['CALL_USER', 'CALL_USER', [{ kind: 'call_user' }]],
    [
      'several calls with comments and blank lines',
      "# open the menu\npyautogui.click(x=0.1, y=0.1)  # the File menu\n\npyautogui.write('notes.txt')\npyautogui.press('enter')",
      [{ kind: 'click', button: 'left', count: 1, at: { x: 0.1, y: 0.1 } }, { kind: 'type', text: 'notes.txt' }, { kind: 'press', key: 'enter', presses: 1 }],
    ],
    ['call spread over lines', 'pyautogui.click(\n  x=0.5,\n  y=0.5,\n)', [{ kind: 'click', button: 'left', count: 1, at: { x: 0.5, y: 0.5 } }]],
  ])('%s', (_name, code, expected) => {
    expect(actionsOf(`## Action:\nDo it.\n\n## Code:\n\`\`\`python\n${code}\n\`\`\``)).toEqual(expected);
    expect(actionsOf(`## Action: Do it.\n## Code:\n${code}`)).toEqual(expected);
  });

  test.each<[string, string]>([
    ['escapes in single quotes', String.raw`pyautogui.write('it\'s a "test"\n\ttab \\ \u00e9 \x41')`],
    ['escapes in double quotes', String.raw`pyautogui.write("it's a \"test\"\n\ttab \\ \u00e9 \x41")`],
  ])('string literal %s', (_name, code) => {
    expect(actionsOf(code)).toEqual([{ kind: 'type', text: 'it\'s a "test"\n\ttab \\ é A' }]);
  });

  test('non-ASCII, raw, triple-quoted and adjacent strings', () => {
    expect(actionsOf("pyautogui.write('Grüße, 世界 ✓')")).toEqual([{ kind: 'type', text: 'Grüße, 世界 ✓' }]);
    expect(actionsOf(String.raw`pyautogui.write(r'C:\new\dir')`)).toEqual([{ kind: 'type', text: String.raw`C:\new\dir` }]);
    expect(actionsOf("pyautogui.write('''line one\nline two''')")).toEqual([{ kind: 'type', text: 'line one\nline two' }]);
    expect(actionsOf("pyautogui.write('ab' \"cd\")")).toEqual([{ kind: 'type', text: 'abcd' }]);
  });

  test('a bare code reply without headings (grounding style)', () => {
    expect(actionsOf('pyautogui.click(x=0.25, y=0.75)')).toEqual([{ kind: 'click', button: 'left', count: 1, at: { x: 0.25, y: 0.75 } }]);
  });

  test('prose before an unlabelled fence', () => {
    expect(actionsOf('I will press Enter.\n```\npyautogui.press("enter")\n```')).toEqual([{ kind: 'press', key: 'enter', presses: 1 }]);
  });

  test('OSWorld set-up snippets: imports of pyautogui and time, semicolons', () => {
    const code = 'import pyautogui; import time; pyautogui.click(960, 540); time.sleep(0.5);';
    expect(actionsOf(code, { imageSize: { width: 1920, height: 1080 } })).toEqual([
      { kind: 'click', button: 'left', count: 1, at: { x: 0.5, y: 0.5 } },
      { kind: 'wait', seconds: 0.5 },
    ]);
  });
});

describe('coordinates', () => {
  test('absolute pixels of the screenshot become normalised', () => {
    expect(actionsOf('pyautogui.click(x=480, y=270)', { imageSize: { width: 1920, height: 1080 } })).toEqual([
      { kind: 'click', button: 'left', count: 1, at: { x: 0.25, y: 0.25 } },
    ]);
  });

  test("'pixels' forces the pixel reading of small values", () => {
    expect(actionsOf('pyautogui.moveTo(1, 1)', { imageSize: { width: 100, height: 50 }, coordinates: 'pixels' })).toEqual([{ kind: 'move', to: { x: 0.01, y: 0.02 } }]);
  });

  test.each([
    ['pyautogui.click(x=480, y=270)', {}, 'no screenshot size is known'],
    ['pyautogui.click(x=2000, y=270)', { imageSize: { width: 1920, height: 1080 } }, 'outside the 1920×1080 screenshot'],
    ['pyautogui.click(x=-0.1, y=0.5)', {}, 'is negative'],
    ['pyautogui.click(x=0.5)', {}, 'x and y must both be numbers'],
    ["pyautogui.click(x='a', y=0.5)", {}, 'x and y must both be numbers'],
    ['pyautogui.click(x=1.5, y=0.5)', { coordinates: 'normalized' }, 'outside 0..1'],
  ])('%s is refused', (code, options, message) => {
    expect(errorOf(code, options)).toContain(message);
  });
});

describe('Thinking-style replies', () => {
  const thinking = 'The user wants the File menu. It is at the top left.\nI should click it.';

  test('reasoning is kept apart from the action', () => {
    const reply = `◁think▷${thinking}◁/think▷## Action:\nClick File.\n## Code:\n\`\`\`python\npyautogui.click(x=0.02, y=0.03)\n\`\`\``;
    const result = parseKimiResponse(reply);
    expect(result.ok).toBe(true);
    expect(result.thinking).toBe(thinking);
    expect(result.description).toBe('Click File.');
    expect(result.ok && result.actions).toEqual([{ kind: 'click', button: 'left', count: 1, at: { x: 0.02, y: 0.03 } }]);
  });

  test('a closing marker without the opening one (the template opened it)', () => {
    const result = parseKimiResponse(`${thinking}\n◁/think▷\n## Code:\nDONE`);
    expect(result.thinking).toBe(thinking);
    expect(result.ok && result.actions).toEqual([{ kind: 'finished' }]);
  });

  test('a reply cut off inside the thinking is a truncation error that keeps the reasoning', () => {
    const result = parseKimiResponse(`◁think▷${thinking} Now I need to`);
    expect(result).toMatchObject({ ok: false, truncated: true, thinking: `${thinking} Now I need to` });
    expect(!result.ok && result.error).toMatch(/cut off inside ◁think▷.*allow more tokens/);
  });

  test('code in the thinking is not executed, only the answer after it', () => {
    const result = parseKimiResponse('◁think▷maybe pyautogui.click(0.9, 0.9)?◁/think▷\n## Code:\npyautogui.click(0.1, 0.1)');
    expect(result.ok && result.actions).toEqual([{ kind: 'click', button: 'left', count: 1, at: { x: 0.1, y: 0.1 } }]);
  });

  test('a reply cut off inside a string says it was truncated', () => {
    const result = parseKimiResponse("◁think▷ok◁/think▷## Code:\n```python\npyautogui.write('unfinish");
    expect(result).toMatchObject({ ok: false, truncated: true, thinking: 'ok' });
  });
});

describe('never evaluates: anything outside the subset is an error saying what', () => {
  test.each([
    ['import os\nos.system("rm -rf /")', "importing 'os' is not allowed"],
    ['from os import system', "'from … import' is not allowed"],
    ['__import__("os").system("ls")', "unexpected '.' after __import__(…)"],
    ['__import__("os")', '__import__() is not an action Kestrel knows'],
    ['os.system("ls")', 'os.system() is not an action Kestrel knows'],
    ['x = 0.5\npyautogui.click(x, 0.5)', "'x' followed by '=' is not a call"],
    ['pyautogui.click(x=a, y=0.5)', "the name 'a' is used as a value"],
    ['for i in range(3):\n    pyautogui.press("tab")', "'for' followed by 'i' is not a call"],
    ['pyautogui.click(x=0.1+0.2, y=0.5)', "expected ',' or ')'"],
    ['pyautogui.write(f"{secret}")', "the name 'f' is used as a value"],
    ['exec("pyautogui.click()")', 'exec() is not an action'],
    ['pyautogui.click(0.5, 0.5).then()', "unexpected '.'"],
    ['pyautogui.click(x=0.1, x=0.2)', "'x' is given twice"],
    ['pyautogui.click(x=0.1, 0.2)', 'positional argument follows a keyword'],
    ['pyautogui.click(0.1, 0.2, 3, 4, "left", 1, 2, 3)', 'takes at most 7 positional arguments'],
    ['pyautogui.click(0.1, 0.2, colour="red")', "has no argument 'colour'"],
    ['pyautogui.click(0.1, 0.2, clicks=5)', 'clicks must be 1, 2 or 3'],
    ['pyautogui.click(0.1, 0.2, button="thumb")', "button must be 'left', 'right' or 'middle'"],
    ['pyautogui.press("hyperdrive")', 'unknown key "hyperdrive"'],
    ['pyautogui.scroll(0)', 'non-zero number of clicks'],
    ['pyautogui.moveTo()', 'needs x and y'],
    ['pyautogui.hotkey()', 'at least one key'],
    ['computer.terminate(status="maybe")', "status must be 'success' or 'failure'"],
    ['HELLO', "'HELLO' is not understood"],
    ['pyautogui.click(0.1, 0.2) $', 'unexpected character "$"'],
    ['lambda: 1', "'lambda' followed by ':'"],
  ])('%s', (code, message) => {
    const error = errorOf(`## Code:\n${code}`);
    expect(error).toContain(message);
    expect(error).not.toContain('\n');
  });

  test('a reply with no code says what it said', () => {
    expect(errorOf('## Action:\nI am not sure what to do here.')).toBe(
      'the reply has no ## Code: section with a pyautogui call; it said: ## Action: I am not sure what to do here.',
    );
    expect(errorOf('')).toContain('it said: (nothing)');
  });

  test('an empty code section', () => {
    expect(errorOf('## Action:\nNothing.\n## Code:\n```python\n# nothing to do\n```')).toBe('the ## Code: section holds no action');
  });

  test('errors name the line', () => {
    expect(errorOf('## Code:\npyautogui.click(0.1, 0.1)\npyautogui.frobnicate()')).toContain('line 2: pyautogui.frobnicate()');
  });
});

describe('hostile replies', () => {
  // Linear work: scripts/bench-parser.ts measures each of these at 1 MiB in a few milliseconds.
  // The bound here is twenty times the 50 ms target so that a busy machine passes; the parser
  // this replaced needed minutes for the first shapes (quadratic in blank lines).
  test.each(Object.keys(HOSTILE_REPLIES))('%s: 1 MiB read in well under a second, with a one-line error', (shape) => {
    const reply = HOSTILE_REPLIES[shape]!(1 << 20);
    const started = performance.now();
    const result = parseKimiResponse(reply);
    expect(performance.now() - started).toBeLessThan(1000);
    if (!result.ok) expect(result.error).toMatch(/^[^\n\r\u2028\u2029]{1,500}$/);
  });

  test('the code is read up to a budget of tokens, and the error says so', () => {
    const calls = 'pyautogui.press("a")\n'.repeat(Math.ceil(MAX_TOKENS / 7) + 1);
    expect(errorOf(`## Code:\n${calls}`)).toMatch(new RegExp(`more than ${MAX_TOKENS} tokens; one step is a few actions`));
    expect(actionsOf(`## Code:\npyautogui.write(${JSON.stringify('x'.repeat(200_000))})`)).toEqual([{ kind: 'type', text: 'x'.repeat(200_000) }]);
  });
});
