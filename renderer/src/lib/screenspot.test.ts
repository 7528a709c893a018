import { expect, test } from 'vitest';
import { isHit, toScreenSpot, truthBox, type Probe } from './screenspot.ts';

const probe: Probe = {
  imageName: 'desk.png',
  width: 1000,
  height: 500,
  query: 'the Save button',
  predicted: { x: 0.5, y: 0.5 },
  truth: [480, 240, 40, 20],
  latencyMs: 12,
  raw: 'click(x=0.5, y=0.5)',
};

test('a probe is a hit when the predicted point is inside the true box', () => {
  expect(isHit(probe)).toBe(true);
  expect(isHit({ ...probe, predicted: { x: 0.53, y: 0.5 } })).toBe(false);
  expect(isHit({ ...probe, predicted: undefined })).toBe(false);
  expect(isHit({ ...probe, truth: undefined })).toBeUndefined();
});

test('clicks become boxes clamped to the image', () => {
  expect(truthBox(500, 250, 40, 1000, 500)).toEqual([480, 230, 40, 40]);
  expect(truthBox(5, 495, 40, 1000, 500)).toEqual([0, 475, 25, 25]);
});

test('export writes ScreenSpot rows for probes with a truth only', () => {
  const rows = JSON.parse(toScreenSpot([probe, { ...probe, truth: undefined, query: 'unmarked' }]));
  expect(rows).toEqual([
    { img_filename: 'desk.png', bbox: [480, 240, 40, 20], instruction: 'the Save button', data_type: 'text', data_source: 'kestrel-inspector' },
  ]);
});
