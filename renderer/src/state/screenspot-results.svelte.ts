import type { KestrelBridge, ScreenSpotResultsView } from '../../../host/ui-types.ts';
import { pngUrl } from '../lib/images.ts';
import { messageOf } from '../../../shared/one-line.ts';

/** A `kestrel eval screenspot` results file opened in the Inspector, one record shown at a time. */
export class ScreenSpotResultsModel {
  resultsPath = $state('');
  imagesPath = $state('');
  view: ScreenSpotResultsView | undefined = $state.raw();
  selected: number | undefined = $state();
  image: { url: string; width: number; height: number } | undefined = $state.raw();
  busy = $state(false);
  error = $state('');

  constructor(
    private readonly bridge: () => KestrelBridge | undefined,
    private readonly announce: (message: string) => void,
  ) {}

  async open(): Promise<void> {
    if (!this.resultsPath.trim() || !this.imagesPath.trim()) return this.fail('give both the results file and the images folder');
    this.busy = true;
    this.error = '';
    try {
      const view = await this.bridge()!.call('screenspot.open', { results: this.resultsPath.trim(), images: this.imagesPath.trim() });
      this.view = view;
      this.setImage(undefined);
      this.selected = undefined;
      const { total, accuracy } = view.summary.overall;
      this.announce(`Opened ${total} results: accuracy ${(accuracy * 100).toFixed(1)}%`);
    } catch (err) {
      this.fail(err);
    } finally {
      this.busy = false;
    }
  }

  async select(index: number): Promise<void> {
    const view = this.view;
    const record = view?.records[index];
    if (!view || !record) return;
    this.selected = index;
    try {
      const shot = await this.bridge()!.call('screenspot.image', { results: view.results, images: view.images, index });
      if (this.selected !== index) return;
      this.setImage({ url: pngUrl(shot.png), width: shot.width, height: shot.height });
      this.error = '';
      this.announce(`${record.correct ? 'Hit' : 'Miss'}: ${record.instruction}`);
    } catch (err) {
      this.setImage(undefined);
      this.fail(err);
    }
  }

  private setImage(image: ScreenSpotResultsModel['image']): void {
    if (this.image) URL.revokeObjectURL(this.image.url);
    this.image = image;
  }

  private fail(err: unknown): void {
    this.error = messageOf(err);
    this.announce(`Error: ${this.error}`);
  }
}
