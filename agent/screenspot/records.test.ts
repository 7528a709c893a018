import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadScreenSpotAnnotations, parseScreenSpotAnnotations, ScreenSpotFormatError } from './records.ts';

describe('ScreenSpot annotations', () => {
  test('v1/v2 records read bbox as x, y, width, height and take the platform from the file name', () => {
    const [record] = parseScreenSpotAnnotations(
      [{ img_filename: 'pc_1.png', bbox: [10, 20, 30, 40], instruction: 'close', data_type: 'icon', data_source: 'windows' }],
      '/data/screenspot_desktop.json',
    );
    expect(record).toEqual({
      id: 'screenspot_desktop.json#0',
      format: 'v1',
      imageFile: 'pc_1.png',
      instruction: 'close',
      box: { x1: 10, y1: 20, x2: 40, y2: 60 },
      imageSize: undefined,
      dataType: 'icon',
      platform: 'desktop',
      application: 'windows',
      group: undefined,
    });
  });

  test('Pro records read bbox as x1, y1, x2, y2 with their own id, size, group and type', () => {
    const [record] = parseScreenSpotAnnotations(
      [
        {
          img_filename: 'vscode/a.png',
          bbox: [100, 200, 150, 230],
          instruction: 'open terminal',
          id: 'vscode_1',
          application: 'vscode',
          platform: 'macos',
          img_size: [3840, 2160],
          ui_type: 'text',
          group: 'Dev',
          instruction_cn: '打开终端',
        },
      ],
      'vscode_macos.json',
    );
    expect(record).toMatchObject({
      id: 'vscode_1',
      format: 'pro',
      box: { x1: 100, y1: 200, x2: 150, y2: 230 },
      imageSize: { width: 3840, height: 2160 },
      dataType: 'text',
      platform: 'macos',
      application: 'vscode',
      group: 'Dev',
    });
  });

  test.each([
    [{ bbox: [1, 2, 3, 4], instruction: 'x' }, 'record 0 has no "img_filename"'],
    [{ img_filename: 'a.png', bbox: [1, 2, 3, 4] }, 'record 0 has no "instruction"'],
    [{ img_filename: 'a.png', bbox: [1, 2, 3], instruction: 'x' }, 'needs "bbox" as an array of 4 numbers, got [1,2,3]'],
    [{ img_filename: 'a.png', bbox: [1, 2, -3, 4], instruction: 'x' }, 'bbox is read as x, y, width, height (ScreenSpot v1/v2)'],
    [{ img_filename: 'a.png', bbox: [50, 2, 10, 4], instruction: 'x', group: 'Dev' }, 'bbox is read as x1, y1, x2, y2 (ScreenSpot-Pro)'],
    [{ img_filename: 'a.png', bbox: [1, 2, 300, 4], instruction: 'x', img_size: [200, 100] }, 'reaches outside img_size 200x100'],
    [{ img_filename: 'a.png', bbox: [1, 2, 3, 4], instruction: 'x', img_size: 'big' }, 'needs "img_size" as [width, height]'],
  ])('a bad record is named with what is wrong: %j', (record, message) => {
    expect(() => parseScreenSpotAnnotations([record], 'f.json')).toThrow(message);
  });

  test('not an array, repeated ids, missing files and broken JSON each say so', async () => {
    expect(() => parseScreenSpotAnnotations({ foo: 1 }, 'f.json')).toThrow('expected a JSON array of ScreenSpot records');
    const twice = { img_filename: 'a.png', bbox: [1, 2, 3, 4], instruction: 'x', id: 'same' };
    expect(() => parseScreenSpotAnnotations([twice, twice], 'f.json')).toThrow('record 1 repeats id "same"');
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-ss-'));
    await expect(loadScreenSpotAnnotations(join(dir, 'none.json'))).rejects.toThrow(/none\.json does not exist/);
    writeFileSync(join(dir, 'bad.json'), '[{"img_filename": ');
    await expect(loadScreenSpotAnnotations(join(dir, 'bad.json'))).rejects.toThrow(ScreenSpotFormatError);
    await expect(loadScreenSpotAnnotations(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json is not valid JSON/);
  });
});
