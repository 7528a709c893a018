import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, test } from 'vitest';
import { runScreenSpot, type GroundFn } from '../../agent/screenspot/evaluate.ts';
import { loadScreenSpotAnnotations } from '../../agent/screenspot/records.ts';
import { generateScreenSpotDataset, SCRIPTED_POINTS, type SyntheticDataset } from '../fixtures/screenspot/generate.ts';

function scriptedGround(calls: string[]): GroundFn {
  return async (png, query) => {
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    calls.push(query);
    const point = SCRIPTED_POINTS[query];
    return { point: point ?? null, raw: point ? `pyautogui.click(x=${point.x}, y=${point.y})` : 'I cannot see it', ms: 5 };
  };
}

let data: SyntheticDataset;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kestrel-screenspot-'));
  data = await generateScreenSpotDataset(join(dir, 'data'));
});

describe('ScreenSpot evaluation on a generated dataset', () => {
  test('ScreenSpot-Pro boxes: exact accuracy overall and per type, platform, application and group', async () => {
    const calls: string[] = [];
    const records = await loadScreenSpotAnnotations(data.proAnnotations);
    const run = await runScreenSpot({ records, imagesDir: data.imagesDir, ground: scriptedGround(calls), resultsPath: join(dir, 'pro.jsonl') });
    expect(calls).toHaveLength(7);
    expect(run.results.map((r) => r.correct)).toEqual([true, true, false, false, true, true, false]);
    expect(run.summary.overall).toEqual({ total: 7, correct: 4, accuracy: 4 / 7 });
    expect(run.summary.byDataType).toEqual({
      icon: { total: 3, correct: 2, accuracy: 2 / 3 },
      text: { total: 4, correct: 2, accuracy: 0.5 },
    });
    expect(run.summary.byPlatform).toEqual({
      linux: { total: 3, correct: 2, accuracy: 2 / 3 },
      mobile: { total: 2, correct: 1, accuracy: 0.5 },
      web: { total: 2, correct: 1, accuracy: 0.5 },
    });
    expect(run.summary.byApplication.editor).toEqual({ total: 3, correct: 2, accuracy: 2 / 3 });
    expect(run.summary.byGroup).toEqual({
      Creative: { total: 2, correct: 1, accuracy: 0.5 },
      Dev: { total: 3, correct: 2, accuracy: 2 / 3 },
      Office: { total: 2, correct: 1, accuracy: 0.5 },
    });
  });

  test('v1/v2 boxes (x, y, w, h) score the same points the same way', async () => {
    const records = await loadScreenSpotAnnotations(data.v1Annotations);
    const run = await runScreenSpot({ records, imagesDir: data.imagesDir, ground: scriptedGround([]), resultsPath: join(dir, 'v1.jsonl') });
    expect(run.results.map((r) => r.correct)).toEqual([true, true, false, false, true, true, false]);
    expect(run.summary.byPlatform).toEqual({ desktop: { total: 7, correct: 4, accuracy: 4 / 7 } });
    expect(run.summary.byApplication.camera).toEqual({ total: 2, correct: 1, accuracy: 0.5 });
    expect(run.summary.byGroup).toEqual({});
  });

  test('a re-run skips records already in the results file, and a half-written last line is redone', async () => {
    const records = await loadScreenSpotAnnotations(data.proAnnotations);
    const resultsPath = join(dir, 'resume.jsonl');
    const first: string[] = [];
    const progress: number[] = [];
    await runScreenSpot({
      records,
      imagesDir: data.imagesDir,
      ground: scriptedGround(first),
      resultsPath,
      limit: 3,
      onProgress: (p) => progress.push(p.done),
    });
    expect(first).toEqual(['save the file', 'open the settings', 'run the program']);
    expect(progress).toEqual([0, 1, 2, 3]);
    appendFileSync(resultsPath, '{"id":"synthetic_3","imageFi');

    const second: string[] = [];
    const run = await runScreenSpot({ records, imagesDir: data.imagesDir, ground: scriptedGround(second), resultsPath });
    expect(second).toEqual(['go back', 'search for it', 'take a photo', 'open the gallery']);
    expect(run.resumed).toBe(3);
    expect(run.summary.overall.correct).toBe(4);
    const lines = readFileSync(resultsPath, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(records.map((r) => r.id));

    const other = records.map((r, i) => (i === 1 ? { ...r, instruction: 'something else' } : r));
    await expect(runScreenSpot({ records: other, imagesDir: data.imagesDir, ground: scriptedGround([]), resultsPath })).rejects.toThrow(
      'holds a different record under id synthetic_1 ("open the settings" on editor.png); it was written for other annotations',
    );

    const third: string[] = [];
    await runScreenSpot({ records, imagesDir: data.imagesDir, ground: scriptedGround(third), resultsPath });
    expect(third).toEqual([]);
  });

  test('a missing image, a wrong img_size and a path outside the image folder are named', async () => {
    const records = await loadScreenSpotAnnotations(data.proAnnotations);
    const ground = scriptedGround([]);
    await expect(
      runScreenSpot({ records, imagesDir: join(dir, 'nowhere'), ground, resultsPath: join(dir, 'x.jsonl') }),
    ).rejects.toThrow(/image .*editor\.png for record synthetic_0 is missing; check --images/);
    const wrong = [{ ...records[0]!, imageSize: { width: 1, height: 1 } }];
    await expect(
      runScreenSpot({ records: wrong, imagesDir: data.imagesDir, ground, resultsPath: join(dir, 'y.jsonl') }),
    ).rejects.toThrow('image editor.png is 640x400 but record synthetic_0 says img_size 1x1');
    const escaping = [{ ...records[0]!, imageFile: '../../etc/passwd' }];
    await expect(
      runScreenSpot({ records: escaping, imagesDir: data.imagesDir, ground, resultsPath: join(dir, 'z.jsonl') }),
    ).rejects.toThrow('names image ../../etc/passwd, outside the --images folder');
  });
});
