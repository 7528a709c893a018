import type { Operator } from '../../agent/operator.ts';

/** Whatever Kestrel draws over the desktop (the overlay windows). */
export interface DesktopDrawing {
  hide(): Promise<void>;
  show(): void;
}

/**
 * Keeps Kestrel's own overlay out of the screenshots the model sees. Where the OS honours
 * content protection (Windows, macOS) nothing is needed; on X11 it is ignored, so the overlay
 * is hidden for the moment of the capture and shown again afterwards.
 */
export function guardCapture(operator: Operator, drawing: DesktopDrawing, hideDuringCapture: boolean): Operator {
  if (!hideDuringCapture) return operator;
  return {
    displays: () => operator.displays(),
    execute: (action, signal) => operator.execute(action, signal),
    async screenshot(signal) {
      await drawing.hide();
      try {
        return await operator.screenshot(signal);
      } finally {
        drawing.show();
      }
    },
  };
}

/** Waits for the run's gate (pause) before every screenshot and action. */
export function gateOperator(operator: Operator, gate: () => Promise<void>): Operator {
  return {
    displays: () => operator.displays(),
    async screenshot(signal) {
      await gate();
      return operator.screenshot(signal);
    },
    async execute(action, signal) {
      await gate();
      return operator.execute(action, signal);
    },
  };
}

/** Waits `delayMs` after each action, so a person can follow (and stop) what happens. */
export function paceOperator(operator: Operator, delayMs: number, signal: AbortSignal): Operator {
  if (delayMs <= 0) return operator;
  return {
    displays: () => operator.displays(),
    screenshot: (s) => operator.screenshot(s),
    async execute(action, s) {
      await operator.execute(action, s);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, delayMs);
        signal.addEventListener('abort', () => (clearTimeout(timer), done()), { once: true });
      });
    },
  };
}
