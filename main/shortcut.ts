import { globalShortcut } from 'electron';
import type { RunManager } from '../host/index.ts';

/**
 * The emergency stop: a global shortcut that works whichever window has focus and aborts the
 * run's signal at once, so at most the action already under way completes.
 * Returns a message when the combination is taken by another program.
 */
export function registerStopShortcut(accelerator: string, runs: RunManager): string | undefined {
  globalShortcut.unregisterAll();
  const ok = globalShortcut.register(accelerator, () => runs.stop());
  return ok ? undefined : `the emergency-stop shortcut ${accelerator} is taken by another program; choose another in Settings`;
}
