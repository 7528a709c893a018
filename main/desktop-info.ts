import { screen, systemPreferences } from 'electron';
import { displaysFromElectron, type MacPermissions } from '../agent/desktop.ts';
import type { DisplayInfo } from '../agent/types.ts';

/** Every monitor from Electron's screen, in the operator's desktop coordinates (electron-displays.ts). */
export function electronDisplays(): DisplayInfo[] {
  return displaysFromElectron(
    screen.getAllDisplays(),
    screen.getPrimaryDisplay().id,
    process.platform,
    process.platform === 'win32' ? (rect) => screen.dipToScreenRect(null, rect) : undefined,
  );
}

/**
 * macOS permissions as the app itself holds them. Screen Recording not yet asked for is unknown
 * (the first capture asks); Accessibility is read without prompting.
 */
export const macPermissions: MacPermissions = {
  screenCapture() {
    const status = systemPreferences.getMediaAccessStatus('screen');
    return status === 'granted' ? true : status === 'denied' || status === 'restricted' ? false : null;
  },
  accessibility: () => systemPreferences.isTrustedAccessibilityClient(false),
};
