/**
 * Pause and resume for a running agent. The loop calls `whilePaused()` at safe points (before
 * each step and between actions); the host calls pause()/resume() from a button or shortcut.
 */
export class PauseController {
  private pausedFlag = false;
  private waiters: (() => void)[] = [];

  get paused(): boolean {
    return this.pausedFlag;
  }

  pause(): void {
    this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Resolves at once when not paused; otherwise when resumed or aborted. Returns whether it
   * actually waited (so the loop can announce paused/resumed).
   */
  async whilePaused(signal?: AbortSignal, onPause?: () => void): Promise<boolean> {
    if (!this.pausedFlag || signal?.aborted) return false;
    onPause?.();
    await new Promise<void>((done) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', wake);
        done();
      };
      this.waiters.push(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
    return true;
  }
}
