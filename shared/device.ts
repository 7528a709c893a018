/**
 * Where a model runs: `auto` or one execution provider. Here rather than in native-models (which
 * exports them too) so the renderer's device lists come from the same values; nothing here loads
 * onnxruntime, so option parsers may import it.
 */
export const DEVICES = ['auto', 'cpu', 'cuda', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];
export type ExecutionDevice = Exclude<Device, 'auto'>;
