import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { generateScreenSpotDataset, type SyntheticDataset } from '../../test/fixtures/screenspot/generate.ts';
import { validateCall } from './routes.ts';
import { openScreenSpotResults, screenSpotImage } from './screenspot-results.ts';

let dir: string;
let data: SyntheticDataset;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kestrel-ss-results-'));
  data = await generateScreenSpotDataset(join(dir, 'data'));
});

function result(index: number, point: { x: number; y: number } | null, correct: boolean, imageFile?: string) {
  const { screen, element: e } = data.samples[index]!;
  return {
    id: `r${index}`,
    imageFile: imageFile ?? screen.file,
    instruction: e.instruction,
    box: { x1: e.x, y1: e.y, x2: e.x + e.width, y2: e.y + e.height },
    imageSize: { width: screen.width, height: screen.height },
    point,
    correct,
    dataType: e.kind,
    raw: 'reply',
    ms: 12,
  };
}

test('a good file: accuracy overall and by type, records as written, images as PNG', async () => {
  const path = join(dir, 'good.jsonl');
  const lines = [result(0, { x: 1, y: 1 }, true), result(1, null, false), result(2, { x: 3, y: 3 }, true)];
  // The last line is cut short, as a crash mid-write leaves it: it is not read.
  writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"id":"half`);
  const view = await openScreenSpotResults(path, data.imagesDir);
  expect(view.summary.overall).toEqual({ total: 3, correct: 2, accuracy: 2 / 3 });
  const kinds = lines.map((l) => l.dataType);
  for (const kind of new Set(kinds)) expect(view.summary.byDataType[kind]!.total).toBe(kinds.filter((k) => k === kind).length);
  expect(view.records.map((r) => r.id)).toEqual(['r0', 'r1', 'r2']);
  expect(view.records[1]!.point).toBeNull();

  const image = await screenSpotImage(path, data.imagesDir, 1);
  expect([image.width, image.height]).toEqual([lines[1]!.imageSize.width, lines[1]!.imageSize.height]);
  expect(image.png.constructor).toBe(Uint8Array);
  expect([...image.png.slice(1, 4)]).toEqual([...Buffer.from('PNG')]);
  await expect(screenSpotImage(path, data.imagesDir, 3)).rejects.toThrow(/has 3 results; there is no result 3/);
});

test('a bad file, a missing file and an image outside the folder give one-line errors', async () => {
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, `${JSON.stringify(result(0, null, false))}\nnot json\n`);
  const message = await openScreenSpotResults(bad, data.imagesDir).then(() => '', (err: Error) => err.message);
  expect(message).toMatch(/bad\.jsonl line 2 is not JSON/);
  expect(message).not.toContain('\n');
  await expect(openScreenSpotResults(join(dir, 'nope.jsonl'), data.imagesDir)).rejects.toThrow(/results file .*nope\.jsonl does not exist/);

  const escaping = join(dir, 'escape.jsonl');
  writeFileSync(escaping, `${JSON.stringify(result(0, null, false, '../../secret.png'))}\n`);
  await expect(screenSpotImage(escaping, data.imagesDir, 0)).rejects.toThrow(/outside the --images folder/);

  // A link inside the images folder that points out of it is outside too.
  writeFileSync(join(dir, 'secret.png'), 'not for the UI');
  symlinkSync(join(dir, 'secret.png'), join(data.imagesDir, 'linked.png'));
  const linked = join(dir, 'linked.jsonl');
  writeFileSync(linked, `${JSON.stringify(result(0, null, false, 'linked.png'))}\n`);
  await expect(screenSpotImage(linked, data.imagesDir, 0)).rejects.toThrow(
    'record r0 names image linked.png, which a symbolic link takes outside the --images folder; img_filename must be a path inside it',
  );
});

test('the routes check their inputs', () => {
  expect(() => validateCall('screenspot.open', { results: '', images: '/x' })).toThrow(/results/);
  expect(() => validateCall('screenspot.image', { results: '/a', images: '/b', index: -1 })).toThrow(/index/);
  expect(validateCall('screenspot.image', { results: '/a', images: '/b', index: 2 }).input).toEqual({ results: '/a', images: '/b', index: 2 });
});
