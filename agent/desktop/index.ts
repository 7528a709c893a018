export { DesktopOperator, DesktopUnavailableError, type DesktopOperatorOptions } from './desktop-operator.ts';
export type { TypingStrategy } from './x11-keyboard.ts';
export { parseListMonitors, chooseDisplay } from './xrandr.ts';
export { keysymFor, Keymap, KeyNotAvailableError } from './x11-keys.ts';
export { DesktopToolError } from './tools.ts';
export { readClipboardText } from './x11-clipboard.ts';
