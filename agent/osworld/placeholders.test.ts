import { describe, expect, test } from 'vitest';
import { fillPlaceholders } from './placeholders.ts';
import { readPyautoguiScript, splitStatements } from './pyautogui-script.ts';
import { splitWords, displayCommand } from './host.ts';

const values = { screenWidth: 1365, screenHeight: 767, clientPassword: 's3cret' };

describe('OSWorld placeholders', () => {
  test('screen sizes, halves (rounded down) and the password fill every string', () => {
    const filled = fillPlaceholders(
      { command: ['python', '-c', 'pyautogui.click({SCREEN_WIDTH_HALF}, {SCREEN_HEIGHT_HALF}); d = {"a": 1}'], n: 3, s: 'echo {CLIENT_PASSWORD} {SCREEN_WIDTH}x{SCREEN_HEIGHT}' },
      values,
    );
    expect(filled).toEqual({ command: ['python', '-c', 'pyautogui.click(682, 383); d = {"a": 1}'], n: 3, s: 'echo s3cret 1365x767' });
  });

  test('for display the password stays a placeholder', () => {
    expect(fillPlaceholders('echo {CLIENT_PASSWORD} | sudo -S ls', values, false)).toBe('echo {CLIENT_PASSWORD} | sudo -S ls');
  });

  test('a task needing the password without one says which option to give', () => {
    expect(() => fillPlaceholders('{CLIENT_PASSWORD}', { screenWidth: 1, screenHeight: 1 })).toThrow('--client-password');
  });
});

describe('pyautogui scripts from task files', () => {
  test('statements split at ; and newlines, not inside strings or brackets', () => {
    expect(splitStatements("import pyautogui; pyautogui.write('a; b')\npyautogui.hotkey('ctrl',\n 'c')  # copy\ntime.sleep(0.5);")).toEqual([
      'import pyautogui',
      "pyautogui.write('a; b')",
      "pyautogui.hotkey('ctrl',\n 'c')",
      'time.sleep(0.5)',
    ]);
  });

  test('a pyautogui-only script becomes calls and sleeps; anything else is foreign', () => {
    expect(readPyautoguiScript("import pyautogui; import time; pyautogui.click(640, 400); time.sleep(0.5);")).toEqual({
      segments: [
        { kind: 'pyautogui', code: 'pyautogui.click(640, 400)' },
        { kind: 'sleep', seconds: 0.5 },
      ],
    });
    expect(readPyautoguiScript("import os; os.system('rm -rf ~')")).toEqual({ foreign: 'import os' });
    expect(readPyautoguiScript("pyautogui.click(1, 2); __import__('os').system('x')")).toEqual({ foreign: "__import__('os').system('x')" });
  });

  test('command strings split like a POSIX shell and display quoted', () => {
    expect(splitWords(`gsettings set "org.gnome x" 'a b' c\\ d`)).toEqual(['gsettings', 'set', 'org.gnome x', 'a b', 'c d']);
    expect(displayCommand({ argv: ['python', '-c', "print('hi')"] })).toBe(`python -c 'print('\\''hi'\\'')'`);
  });
});
