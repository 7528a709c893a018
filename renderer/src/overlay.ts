import type { OverlayMark } from '../../host/ui-types.ts';

// The overlay page: a transparent, click-through window per display. It only draws the mark
// that main sends; it has no API of its own.
declare global {
  interface Window {
    readonly kestrelOverlay?: { onMark(listener: (mark: OverlayMark | null) => void): void };
  }
}

const marker = document.getElementById('marker')!;
const label = document.getElementById('label')!;

window.kestrelOverlay?.onMark((mark) => {
  marker.hidden = !mark;
  if (!mark) return;
  marker.style.transform = `translate(${mark.x}px, ${mark.y}px)`;
  label.textContent = `${mark.step} · ${mark.label}`;
});
