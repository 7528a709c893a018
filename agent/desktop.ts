// The desktop entry: the one nut-js operator (over its platform adapters: X11, Windows, macOS),
// the error that says no desktop can be driven, and the Electron display helpers the app needs.
// Loads the adapters (nut-js itself on first use).
export { DesktopOperator, type DesktopOperatorOptions } from './desktop/desktop-operator.ts';
export { DesktopUnavailableError, overlayHiddenDuringCapture } from './desktop/platform.ts';
export type { TypingStrategy } from './desktop/nut-keyboard.ts';
export type { MacPermissions } from './desktop/macos-platform.ts';
export { displaysFromElectron, desktopOffsetToDip } from './desktop/electron-displays.ts';
