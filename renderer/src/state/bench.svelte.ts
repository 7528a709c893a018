import type { KestrelBridge, BenchReport, Settings } from '../../../host/ui-types.ts';
import { messageOf } from '../../../shared/one-line.ts';

/** Settings → Models → Benchmark: `kestrel bench` for one model and device, run by the host. */
export class BenchModel {
  running = $state(false);
  report: BenchReport | undefined = $state.raw();
  error = $state('');

  constructor(
    private readonly bridge: () => KestrelBridge | undefined,
    private readonly announce: (message: string) => void,
  ) {}

  async run(path: string, device: Settings['device'], repetitions: number): Promise<void> {
    const bridge = this.bridge();
    if (!bridge || this.running) return;
    this.running = true;
    this.error = '';
    this.announce('Benchmark started; it loads the model afresh for each repetition');
    try {
      this.report = await bridge.call('models.bench', { path, device, repetitions });
      const failed = this.report.results.find((r) => r.error !== undefined);
      this.announce(failed ? `Benchmark failed: ${failed.error}` : 'Benchmark finished');
    } catch (err) {
      this.error = messageOf(err);
      this.announce(`Benchmark failed: ${this.error}`);
    } finally {
      this.running = false;
    }
  }
}
