/**
 * The run settings every host starts from — `kestrel run`, `kestrel replay` and the app's
 * Settings — kept in one place so that an instruction behaves the same wherever it is started.
 */
export const RUN_DEFAULTS = {
  /** Steps before a run stops with max_steps. */
  maxSteps: 50,
  /** The same action this many steps in a row ends the run. */
  maxRepeats: 4,
  /**
   * Pause after each action: applications keep up, and a person can follow what happens and
   * stop it. The one pacing of a run (the desktop operator adds none of its own).
   */
  actionDelayMs: 300,
  /** Screenshots per model request, the current one included (the app's history length is one less). */
  screenshots: 2,
} as const;
