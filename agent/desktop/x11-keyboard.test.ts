import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { X11Keyboard, XDOTOOL_CHUNK } from './x11-keyboard.ts';

// A stand-in `xdotool` first on PATH: the real spawn, with the kernel's real argument limit,
// and a record of what each call was asked to type.
let dir: string;
let env: NodeJS.ProcessEnv;
const typed = () => readFileSync(join(dir, 'typed'), 'utf8');
const calls = () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').map(Number);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kestrel-xdotool-'));
  const stub = join(dir, 'xdotool');
  // xdotool type --clearmodifiers --delay <ms> -- <text>: the text is the sixth argument.
  writeFileSync(stub, `#!/bin/sh\n[ "$1" = type ] || exit 0\nprintf '%s' "$6" >> "${dir}/typed"\nprintf '%s\\n' "\${#6}" >> "${dir}/calls"\n`);
  chmodSync(stub, 0o755);
  writeFileSync(join(dir, 'typed'), '');
  writeFileSync(join(dir, 'calls'), '');
  env = { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH}`, DISPLAY: ':0', LC_ALL: 'C.UTF-8' };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('text over the 128 KiB argument limit is typed in chunks instead of failing with E2BIG', async () => {
  // 150,000 characters: one argument this long makes spawn fail with E2BIG (MAX_ARG_STRLEN is 131,072 bytes).
  const text = 'pyautogui.write '.repeat(9375);
  await new X11Keyboard({ env, typing: 'keys', charDelayMs: 0 }).type(text);
  expect(typed()).toBe(text);
  expect(calls().every((n) => n <= XDOTOOL_CHUNK)).toBe(true);
  expect(calls()).toHaveLength(Math.ceil(text.length / XDOTOOL_CHUNK));
});

test('chunks never split a character made of two UTF-16 units', async () => {
  writeFileSync(join(dir, 'typed'), '');
  const text = `${'a'.repeat(XDOTOOL_CHUNK - 1)}😀${'b'.repeat(10)}`;
  await new X11Keyboard({ env, typing: 'keys', charDelayMs: 0 }).type(text);
  expect(typed()).toBe(text);
});
