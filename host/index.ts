// The host core's entry for the two hosts, cli/ (the browser host, `kestrel model bench`) and
// main/ (the Electron shell): the host assembled from its parts, the parts a host wires itself
// (the API, runs, models, settings, the capture guard, the overlay mark), the wire format and
// the page security rules. The renderer's entry is ui-types.ts (types only, no Node).
export type * from './ui-types.ts';
export { createHost, type DesktopFactory, type Host, type HostOptions } from './host.ts';
export { createApi, type ApiDeps, type KestrelApi } from './api.ts';
export { agentBindings, desktopFactory } from './agent-bindings.ts';
export { guardCapture, type DesktopDrawing } from './capture-guard.ts';
export { overlayMark } from './overlay-target.ts';
export { RunManager } from './run-manager.ts';
export { ModelManager } from './model-manager.ts';
export { runModelBench } from './model-bench.ts';
export { SettingsStore } from './settings-store.ts';
export { checkFolderSettings } from './folder-settings.ts';
export { NO_SECRET_BOX, type SecretBox } from './secrets.ts';
export { InvalidInput } from './validate.ts';
export { decodeWire, encodeWire, type CallMessage } from './wire.ts';
export { CONTENT_SECURITY_POLICY, isOwnPage, type OwnPages } from './web-security.ts';
