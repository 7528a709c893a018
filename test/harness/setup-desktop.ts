import { ensureSystemTools } from './system-tools.ts';

// Install (as root) or name the missing packages once, before any desktop test starts.
export default function setup(): void {
  ensureSystemTools(['Xvfb', 'xterm', 'import', 'xrandr', 'xwininfo', 'xprop', 'openbox', 'xev', 'xdotool', 'xsel', 'xclip', 'xmodmap', 'zenity', 'mcs']);
}
