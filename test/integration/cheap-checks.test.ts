import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { encodePng, noise } from '../fixtures/images/png.ts';
import { LOAD_PROGRESS_LINE, runKestrel } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

// Every command that loads a model runs its cheap checks first: a typo costs a line, not the
// minutes a real model takes to load. With a real (tiny) model folder, the error must come
// with no load progress before it.

const ckpt = tinyCheckpoint({ seed: 5 });
const work = tempDir('cheap-checks');
const modelDir = join(work.dir, 'm');
const missing = join(work.dir, 'no-such-shot.png');
const truncated = join(work.dir, 'truncated.png');
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  await importKimiVL({ source: ckpt.dir, out: modelDir });
  // A PNG cut off half-way: its header reads fine, its pixels do not.
  const png = encodePng({ width: 64, height: 64, colour: 'rgb', samples: noise(64 * 64 * 3, 7) });
  writeFileSync(truncated, png.subarray(0, Math.floor(png.length / 2)));
  busy = createServer();
  await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
  busyPort = (busy.address() as AddressInfo).port;
}, 120_000);
afterAll(() => {
  busy?.close();
  ckpt.cleanup();
  work.cleanup();
});

/** The one line a command printed, checked to come without any model load progress. */
function oneLineWithoutLoad(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines.filter((line) => LOAD_PROGRESS_LINE.test(line))).toEqual([]);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

const noSuchFile = `kestrel: cannot read the image ${missing}: no such file`;

describe('cheap checks come before the model loads', () => {
  test.each([
    ['ground', ['ground', missing, 'the OK button', '--model-dir', modelDir]],
    ['model chat --image', ['model', 'chat', modelDir, 'what is this?', '--image', missing]],
  ])('%s: a missing image is exit 2 and one line, the same for both', async (_name, args) => {
    const r = await runKestrel(args);
    expect(r.code).toBe(2);
    expect(oneLineWithoutLoad(r.stderr)).toBe(noSuchFile);
  });

  test('model logits: an image part of the messages file that is missing, likewise', async () => {
    const messages = join(work.dir, 'chat.json');
    writeFileSync(messages, JSON.stringify([{ role: 'user', content: [{ type: 'image', image: missing }, { type: 'text', text: 'hi' }] }]));
    const r = await runKestrel(['model', 'logits', modelDir, '--messages', messages]);
    expect(r.code).toBe(2);
    expect(oneLineWithoutLoad(r.stderr)).toBe(noSuchFile);
  });

  test.each([
    ['ground', ['ground', truncated, 'the OK button', '--model-dir', modelDir]],
    ['model chat --image', ['model', 'chat', modelDir, 'what is this?', '--image', truncated]],
  ])('%s: a truncated image is exit 2 and one line naming it', async (_name, args) => {
    const r = await runKestrel(args);
    expect(r.code).toBe(2);
    expect(oneLineWithoutLoad(r.stderr)).toMatch(new RegExp(`^kestrel: ${truncated.replace(/[.]/g, '\\.')} is not an image Kestrel can read \\(.+\\); give a PNG or JPEG screenshot$`));
  });

  test('serve: a busy port', async () => {
    const r = await runKestrel(['serve', '--model-dir', modelDir, '--port', String(busyPort)]);
    expect(r.code).toBe(1);
    expect(oneLineWithoutLoad(r.stderr)).toBe(`kestrel: cannot listen on 127.0.0.1:${busyPort} (EADDRINUSE); pick another --port`);
  });

  test('run: no display', async () => {
    const env = { ...process.env };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const r = await runKestrel(['run', 'open the terminal', '--model-dir', modelDir], env);
    expect(r.code).toBe(1);
    expect(oneLineWithoutLoad(r.stderr)).toMatch(/^kestrel: there is no display \(DISPLAY is not set\)/);
  });
});
