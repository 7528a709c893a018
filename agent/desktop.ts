// The desktop entry: the one nut-js operator over its platform adapters (X11, Windows, macOS),
// and the Electron display helpers the app needs. Loads the adapters (nut-js itself on first use).
export { DesktopOperator, openPlatform, type DesktopOperatorOptions } from './desktop/desktop-operator.ts';
export { DesktopUnavailableError, overlayHiddenDuringCapture, type DesktopKind, type DesktopPlatform } from './desktop/platform.ts';
export type { TypingStrategy } from './desktop/nut-keyboard.ts';
export type { MacPermissions } from './desktop/macos-platform.ts';
export { parseListMonitors, chooseDisplay } from './desktop/xrandr.ts';
export { keysymFor, Keymap, KeyNotAvailableError } from './desktop/x11-keys.ts';
export { DesktopToolError } from './desktop/tools.ts';
export { readClipboardText } from './desktop/x11-clipboard.ts';
export { displaysFromElectron, desktopOffsetToDip, type ElectronDisplay } from './desktop/electron-displays.ts';
