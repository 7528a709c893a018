import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { WINDOWS_HELPER_CSHARP } from '../../agent/desktop/windows-helper-source.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'kestrel-csharp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Windows never runs here, but its helper's C# can still be compiled: Mono's mcs held to C# 5,
// the language Windows PowerShell 5.1's Add-Type compiles, against System.Drawing as Add-Type
// references it. A typo or a newer-C# construct fails here instead of on someone's Windows.
test("the Windows helper's C# compiles as C# 5 with System.Drawing", async () => {
  const source = join(dir, 'KestrelDesktop.cs');
  writeFileSync(source, WINDOWS_HELPER_CSHARP);
  const { stdout, stderr } = await run('mcs', ['-langversion:5', '-target:library', '-warnaserror+', '-nowarn:0169,0649', '-r:System.Drawing', `-out:${join(dir, 'KestrelDesktop.dll')}`, source]).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`mcs failed (System.Drawing comes from libmono-system-drawing4.0-cil): ${err.stdout ?? ''}${err.stderr ?? err.message}`);
  });
  expect(`${stdout}${stderr}`).not.toMatch(/error/i);
});
