/**
 * Calls `onClosed` when whoever reads stdout goes away (`kestrel model logits --json | head`),
 * instead of crashing on the EPIPE error event. Stays installed: later writes fail the same way.
 */
export function onStdoutClosed(onClosed: () => void): void {
  const listener = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    onClosed();
  };
  process.stdout.on('error', listener);
}
