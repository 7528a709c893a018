import { forwardOperator, type Operator } from '../agent/index.ts';

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
  return forwardOperator(operator, {
    async screenshot(signal) {
      await drawing.hide();
      try {
        return await operator.screenshot(signal);
      } finally {
        drawing.show();
      }
    },
  });
}
