import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { IMPORT_MARKER } from '../../native-models/checkpoint/output-folder.ts';
import { runKestrel, startKestrel, type CliProcess } from '../harness/cli.ts';
import { waitFor } from '../harness/processes.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

// `kestrel model import` cut short: by Ctrl-C (it cleans up and says so), or killed outright
// (the same command run again takes over its own partial output, and says so).

const ckpt = tinyCheckpoint({ seed: 13 });
const work = tempDir('import-interrupt');
afterAll(() => {
  ckpt.cleanup();
  work.cleanup();
});

/** Starts an import into `out` and resolves once it is writing weights. */
async function importUnderWay(out: string): Promise<CliProcess> {
  const child = startKestrel(['model', 'import', ckpt.dir, '--out', out]);
  await waitFor('the import to start writing weights', () => /^converting /m.test(child.stderr()) || undefined, 60_000);
  return child;
}

const lastLine = (text: string): string => text.trimEnd().split('\n').at(-1)!;

describe('an interrupted model import', () => {
  test('Ctrl-C: exit 130, one line, and nothing it wrote is left (the folder it made is gone)', async () => {
    const out = join(work.dir, 'new', 'model');
    const child = await importUnderWay(out);
    child.child.kill('SIGINT');
    expect(await child.exited()).toBe(130);
    expect(lastLine(child.stderr())).toBe(`kestrel: the import into ${out} was cancelled; what it had written is removed`);
    expect(existsSync(join(work.dir, 'new'))).toBe(false);
  });

  test('Ctrl-C into a folder the person made: the folder stays, empty', async () => {
    const out = join(work.dir, 'mine');
    mkdirSync(out);
    const child = await importUnderWay(out);
    child.child.kill('SIGINT');
    expect(await child.exited()).toBe(130);
    expect(readdirSync(out)).toEqual([]);
  });

  test('killed outright: the same command takes over what was left, saying so in one line', async () => {
    const out = join(work.dir, 'killed');
    const child = await importUnderWay(out);
    child.child.kill('SIGKILL');
    await child.exited();
    expect(readdirSync(out)).toContain(IMPORT_MARKER);
    const again = await runKestrel(['model', 'import', ckpt.dir, '--out', out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`^kestrel: ${out.replace(/[.]/g, '\\.')} holds an import that was interrupted \\(started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); starting it again over what it left$`, 'm'));
    const files = readdirSync(out);
    expect(files).toContain('kestrel-model.json');
    expect(files.filter((f) => f === IMPORT_MARKER || f.endsWith('.partial'))).toEqual([]);
  });

  test('a second import into a folder being written is refused while the first runs', async () => {
    const out = join(work.dir, 'busy');
    const first = await importUnderWay(out);
    // Held still, so that it is certainly still under way while the second one looks.
    first.child.kill('SIGSTOP');
    try {
      const second = await runKestrel(['model', 'import', ckpt.dir, '--out', out]);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(new RegExp(`^kestrel: another import \\(process ${first.child.pid}, started [^)]+\\) is writing to ${out.replace(/[.]/g, '\\.')}; wait for it to finish, or stop it and run this again\\n$`));
    } finally {
      first.child.kill('SIGINT');
      first.child.kill('SIGCONT');
      await first.exited();
    }
  });

  test('a folder holding something else is refused first, before the checkpoint is read, with exit 2', async () => {
    const out = join(work.dir, 'photos');
    mkdirSync(out);
    writeFileSync(join(out, 'holiday.jpg'), 'not a model');
    const r = await runKestrel(['model', 'import', join(work.dir, 'no-such-checkpoint'), '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kestrel: the output folder ${out} is not empty and is not a Kestrel model; choose a new or empty folder\n`);
    expect(readdirSync(out)).toEqual(['holiday.jpg']);
  });
});
