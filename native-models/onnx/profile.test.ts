import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { openSession, PROFILE_ENV } from './backend.ts';
import { GraphBuilder, attr } from './graph-builder.ts';
import { writeModel } from './model-writer.ts';
import { DataType } from './onnx-proto.ts';

const t = tempDir('profile');
afterAll(t.cleanup);
afterEach(() => {
  delete process.env[PROFILE_ENV];
});

async function twoOpModel(dir: string) {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [2, 3]);
  const y = g.op('Softmax', [g.op('Add', [x, x], 'double')], 'probs', [attr.int('axis', -1)]);
  g.output(y, DataType.FLOAT, [2, 3]);
  return (await writeModel(g, dir, 'two-ops')).modelFile;
}

const feed = { x: { type: 'float32' as const, data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] } };

describe(`${PROFILE_ENV}: onnxruntime's profile, and the per-op table made from it`, () => {
  test('each session writes its profile when released; scripts/ort-profile.ts lists every op of the runs picked', async () => {
    const model = await twoOpModel(t.dir);
    const profiles = join(t.dir, 'profiles');
    process.env[PROFILE_ENV] = profiles;
    const session = await openSession(model);
    for (let i = 0; i < 3; i++) await session.run(feed);
    await session.release();
    const files = readdirSync(profiles);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^kestrel-profile-\w+-two-ops_.*\.json$/);

    const table = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/ort-profile.ts', join(profiles, files[0]!), '--runs', '1-'], { cwd: resolve(import.meta.dirname, '../..'), encoding: 'utf8' });
    expect(table).toMatch(/runs 1–2 of 3 \(2\)/);
    expect(table).toMatch(/^Add\s.*double/m);
    expect(table).toMatch(/^Softmax\s.*probs/m);
  });

  test('a profile folder whose parent is missing is one line naming the variable, before any session starts', async () => {
    const model = await twoOpModel(t.dir);
    process.env[PROFILE_ENV] = join(t.dir, 'no-such-parent', 'profiles');
    await expect(openSession(model)).rejects.toThrow(new RegExp(`^${PROFILE_ENV}=.*no-such-parent/profiles: cannot make the profile folder \\(ENOENT\\); point it at a folder whose parent exists$`));
  });

  test('without the variable nothing is written', async () => {
    const model = await twoOpModel(join(t.dir));
    const session = await openSession(model);
    await session.run(feed);
    await session.release();
    expect(readdirSync(t.dir).filter((f) => f.endsWith('.json'))).toEqual([]);
  });
});
