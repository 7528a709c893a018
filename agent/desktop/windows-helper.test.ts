import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { HelperProcess, WindowsHelperError } from './windows-helper.ts';
import { encodedCommand, WINDOWS_HELPER_POWERSHELL } from './windows-helper-source.ts';

// The helper's line protocol, spoken by a stand-in written in Node (PowerShell is not here):
// it checks that the C# source arrives first, says it is ready, then answers each request.
const dir = mkdtempSync(join(tmpdir(), 'kestrel-helper-'));
const standIn = join(dir, 'helper.mjs');
writeFileSync(
  standIn,
  `import { createInterface } from 'node:readline';
let first = true;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (first) {
    first = false;
    const source = Buffer.from(line, 'base64').toString('utf8');
    if (!source.includes('public static class KestrelDesktop')) { console.error('no C# source'); process.exit(3); }
    console.log('PowerShell chatter that is not JSON');
    console.log(JSON.stringify({ ready: true }));
    return;
  }
  const [id, op, ...args] = line.split('\\t');
  if (op === 'move') console.log(JSON.stringify({ id: Number(id), ok: true, result: { x: Number(args[0]), y: Number(args[1]) } }));
  else if (op === 'type') console.log(JSON.stringify({ id: Number(id), ok: true, result: { typed: Buffer.from(args[0], 'base64').toString('utf8') } }));
  else if (op === 'capture') console.log(JSON.stringify({ id: Number(id), ok: false, code: 'secure-desktop', error: 'the secure desktop is showing' }));
  else if (op === 'die') { console.error('Add-Type : compilation failed'); process.exit(1); }
});
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const helper = () => new HelperProcess({ command: process.execPath, args: [standIn], startTimeoutMs: 20_000 });

test('requests and replies are matched by id, text travels as base64, failures keep their code', async () => {
  const h = helper();
  try {
    const [moved, typed] = await Promise.all([h.request('move', [-1920, 40]), h.request('type', [Buffer.from('日本\tx').toString('base64')])]);
    expect(moved).toEqual({ x: -1920, y: 40 });
    expect(typed).toEqual({ typed: '日本\tx' });
    const failure = await h.request('capture', [0, 0, 10, 10, 'C:\\temp\\x.png']).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WindowsHelperError);
    expect(failure).toMatchObject({ code: 'secure-desktop', message: 'the secure desktop is showing' });
  } finally {
    h.close();
  }
});

test('a helper that dies fails the waiting request with its last words, and the next request starts a new one', async () => {
  const h = helper();
  try {
    await expect(h.request('die')).rejects.toThrow('the Windows helper stopped (exit code 1): Add-Type : compilation failed');
    expect(await h.request('move', [1, 2])).toEqual({ x: 1, y: 2 });
  } finally {
    h.close();
  }
});

test('no PowerShell is one line naming what Kestrel needs', async () => {
  const h = new HelperProcess({ command: join(dir, 'no-such-powershell.exe'), args: [] });
  await expect(h.request('displays')).rejects.toThrow(/no-such-powershell\.exe was not found; Kestrel drives Windows through Windows PowerShell 5\.1, which is part of Windows 10 and 11/);
});

test('the PowerShell bootstrap fits -EncodedCommand and reads the C# from stdin', () => {
  const encoded = encodedCommand(WINDOWS_HELPER_POWERSHELL);
  expect(encoded.length).toBeLessThan(4000);
  expect(Buffer.from(encoded, 'base64').toString('utf16le')).toBe(WINDOWS_HELPER_POWERSHELL);
  expect(WINDOWS_HELPER_POWERSHELL).toContain('[Convert]::FromBase64String([Console]::In.ReadLine())');
});
