/** The execution-provider choices, kept apart from backend.ts so option parsers need not load onnxruntime. */
export const DEVICES = ['auto', 'cpu', 'cuda', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];
export type ExecutionDevice = Exclude<Device, 'auto'>;
