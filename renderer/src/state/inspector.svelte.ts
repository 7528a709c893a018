import type { KestrelBridge, GroundResult } from '../../../host/ui-types.ts';
import { fileToPng, pngUrl } from '../lib/images.ts';
import { isHit, toScreenSpot, truthBox, type Probe } from '../lib/screenspot.ts';
import { messageOf } from '../../../shared/one-line.ts';

export interface LoadedImage {
  url: string;
  png: Uint8Array;
  width: number;
  height: number;
  name: string;
}

/** The grounding inspector: one image, queries against it, truths marked, probes kept. */
export class InspectorModel {
  image: LoadedImage | undefined = $state.raw();
  query = $state('');
  result: GroundResult | undefined = $state.raw();
  busy = $state(false);
  error = $state('');
  zoom = $state(1);
  panX = $state(0);
  panY = $state(0);
  /** Side of the true-target box made by a click, in image pixels. */
  targetSize = $state(24);
  truth: [number, number, number, number] | undefined = $state.raw();
  probes: Probe[] = $state([]);
  private shots = 0;

  constructor(
    private readonly bridge: () => KestrelBridge | undefined,
    private readonly announce: (message: string) => void,
  ) {}

  get hit(): boolean | undefined {
    if (!this.image || !this.result) return undefined;
    return isHit({ predicted: this.result.point, truth: this.truth, width: this.image.width, height: this.image.height });
  }

  async openFile(file: File): Promise<void> {
    try {
      const { png, width, height } = await fileToPng(file);
      this.setImage({ png, width, height, name: file.name, url: pngUrl(png) });
      this.announce(`Opened ${file.name}, ${width} by ${height} pixels.`);
    } catch (err) {
      this.fail(`could not open ${file.name} as an image (${messageOf(err)})`);
    }
  }

  async screenshot(displayId: string): Promise<void> {
    try {
      const shot = await this.bridge()!.call('displays.screenshot', { displayId });
      this.shots++;
      this.setImage({ ...shot, name: `screenshot-${this.shots}.png`, url: pngUrl(shot.png) });
      this.announce(`Took a screenshot of display ${displayId}.`);
    } catch (err) {
      this.fail(err);
    }
  }

  private setImage(image: LoadedImage): void {
    if (this.image) URL.revokeObjectURL(this.image.url);
    this.image = image;
    this.result = undefined;
    this.truth = undefined;
    this.resetView();
    this.error = '';
  }

  async find(): Promise<void> {
    if (!this.image) return this.fail('open an image or take a screenshot first');
    if (!this.query.trim()) return this.fail('type what to find');
    this.busy = true;
    this.error = '';
    this.announce(`Finding “${this.query}”…`);
    try {
      const result = await this.bridge()!.call('ground.image', { png: this.image.png, query: this.query.trim() });
      this.result = result;
      this.truth = undefined;
      this.probes.push({
        imageName: this.image.name,
        width: this.image.width,
        height: this.image.height,
        query: this.query.trim(),
        predicted: result.point,
        latencyMs: result.latencyMs,
        raw: result.raw,
      });
      this.announce(
        result.point
          ? `Found at ${Math.round(result.point.x * this.image.width)}, ${Math.round(result.point.y * this.image.height)} in ${Math.round(result.latencyMs)} ms.`
          : `No point in the reply: ${result.error ?? 'unknown reason'}.`,
      );
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
    }
  }

  /** Marks the true target at image pixel (x, y) and scores the latest probe for this image. */
  markTruth(x: number, y: number): void {
    if (!this.image) return;
    this.truth = truthBox(x, y, this.targetSize, this.image.width, this.image.height);
    const last = this.probes[this.probes.length - 1];
    if (last && this.result && last.imageName === this.image.name && last.raw === this.result.raw) {
      this.probes[this.probes.length - 1] = { ...last, truth: this.truth };
    }
    const hit = this.hit;
    this.announce(hit === undefined ? 'True target marked.' : hit ? 'Hit: the prediction is on the target.' : 'Miss: the prediction is off the target.');
  }

  zoomBy(factor: number): void {
    this.zoom = Math.min(16, Math.max(1, this.zoom * factor));
    if (this.zoom === 1) this.resetView();
  }

  panBy(dx: number, dy: number): void {
    if (this.zoom === 1) return;
    this.panX += dx;
    this.panY += dy;
  }

  resetView(): void {
    this.zoom = 1;
    this.panX = 0;
    this.panY = 0;
  }

  removeProbe(index: number): void {
    this.probes.splice(index, 1);
  }

  exportScreenSpot(): string {
    return toScreenSpot(this.probes);
  }

  private fail(err: unknown): void {
    this.error = messageOf(err);
    this.announce(`Error: ${this.error}`);
  }
}
