import { expect, test } from 'vitest';
import { DEVICES } from '../../../shared/device.ts';
import { DEVICE_OPTIONS } from './devices.ts';

test('every device select lists each device once, in DEVICES order, named as the app always named them', () => {
  expect(DEVICE_OPTIONS.map((o) => o.value)).toEqual([...DEVICES]);
  expect(DEVICE_OPTIONS.map((o) => o.label)).toEqual(['Auto (a GPU if one starts, else the CPU)', 'CPU', 'CUDA (NVIDIA)', 'WebGPU']);
});
