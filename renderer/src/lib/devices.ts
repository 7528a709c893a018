import { DEVICES, type Device } from '../../../shared/device.ts';

/** Each device's name, as a sentence uses it. */
export const DEVICE_NAMES: Readonly<Record<Device, string>> = { auto: 'Auto', cpu: 'CPU', cuda: 'CUDA', webgpu: 'WebGPU' };

/** What a device list adds to a name that does not say enough alone. */
const NOTES: Readonly<Partial<Record<Device, string>>> = { auto: 'a GPU if one starts, else the CPU', cuda: 'NVIDIA' };

/** The options of every device select (Settings, the benchmark), in DEVICES' order. */
export const DEVICE_OPTIONS: readonly { readonly value: Device; readonly label: string }[] = DEVICES.map((value) => ({
  value,
  label: NOTES[value] ? `${DEVICE_NAMES[value]} (${NOTES[value]})` : DEVICE_NAMES[value],
}));
