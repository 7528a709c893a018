import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { parseKimiVLConfig } from '../../native-models/models/kimi-vl/configuration.ts';
import { estimateWeights } from '../../native-models/models/kimi-vl/weights-size.ts';
import { KIMI_VL_A3B_WEIGHTS } from './model-sizes.ts';

const config = parseKimiVLConfig(JSON.parse(readFileSync(new URL('../../test/fixtures/kimi-vl/Kimi-VL-A3B-Instruct.config.json', import.meta.url), 'utf8')));

test('the sizes the app shows are the importer’s own estimate for Kimi-VL-A3B', () => {
  for (const precision of ['int4', 'fp16', 'fp32'] as const) {
    expect(KIMI_VL_A3B_WEIGHTS[precision]).toEqual(estimateWeights(config, precision));
  }
});

test('the README’s size table says the same, to the digits it shows', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const precision of ['int4', 'fp16', 'fp32'] as const) {
    const row = new RegExp(`^\\| ${precision} \\| ([\\d.]+) GB \\| ([\\d.]+) GB \\| ([\\d.]+) GB`, 'm').exec(readme);
    expect(row, `README row for ${precision}`).not.toBeNull();
    const { total, text, vision } = KIMI_VL_A3B_WEIGHTS[precision];
    [total, text, vision].forEach((bytes, i) => {
      const shown = row![i + 1]!;
      const decimals = shown.split('.')[1]?.length ?? 0;
      // Within the rounding of the last digit shown.
      expect(Math.abs(bytes / 1e9 - Number(shown)), `${precision}: README says ${shown} GB, the estimate is ${bytes / 1e9} GB`).toBeLessThanOrEqual(0.5 * 10 ** -decimals + 1e-9);
    });
  }
});
