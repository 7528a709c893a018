export { DesktopOperator, openPlatform, type DesktopOperatorOptions } from './desktop-operator.ts';
export { DesktopUnavailableError, overlayHiddenDuringCapture, type DesktopKind, type DesktopPlatform } from './platform.ts';
export type { TypingStrategy } from './nut-keyboard.ts';
export type { MacPermissions } from './macos-platform.ts';
export { parseListMonitors, chooseDisplay } from './xrandr.ts';
export { keysymFor, Keymap, KeyNotAvailableError } from './x11-keys.ts';
export { DesktopToolError } from './tools.ts';
export { readClipboardText } from './x11-clipboard.ts';
export { displaysFromElectron, type ElectronDisplay } from './electron-displays.ts';
