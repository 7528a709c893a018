/**
 * Ctrl-C and SIGTERM for a command that stops cleanly: the first one asks the work to stop
 * (through `signal`), a second one exits 130 at once, so Ctrl-C always works.
 */
export interface Interrupt {
  readonly signal: AbortSignal;
  /** Whether the person asked to stop. */
  readonly requested: boolean;
  dispose(): void;
}

/** `onQuit` runs just before a second Ctrl-C exits, to say what was left behind. */
export function catchInterrupt(onQuit?: () => void): Interrupt {
  const controller = new AbortController();
  let requested = false;
  const onSignal = (): void => {
    if (requested) {
      onQuit?.();
      process.exit(130);
    }
    requested = true;
    process.stderr.write('kestrel: stopping (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    get requested() {
      return requested;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
