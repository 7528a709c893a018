// The execution-provider choices live in shared/ (the renderer lists them too); native-models'
// files import them from here, apart from backend.ts, so option parsers need not load onnxruntime.
export { DEVICES, type Device, type ExecutionDevice } from '../../shared/device.ts';
