/**
 * A progress bar on stderr: redrawn in place on a terminal; on a pipe or log file, one line
 * per tenth so logs stay short.
 */
export class ProgressBar {
  private lastTenth = -1;
  private lastLabel = '';

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly width = 30,
  ) {}

  update(label: string, done: number, total: number, detail = ''): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const percent = Math.floor(fraction * 100);
    if (this.stream.isTTY) {
      const filled = Math.round(fraction * this.width);
      const bar = '█'.repeat(filled) + '░'.repeat(this.width - filled);
      const columns = this.stream.columns ?? 100;
      const line = `${label} ${bar} ${String(percent).padStart(3)}% ${detail}`;
      this.stream.write(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`);
      if (fraction >= 1) this.stream.write('\n');
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (label !== this.lastLabel) this.lastTenth = -1;
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.lastLabel = label;
    this.stream.write(`${label} ${String(percent).padStart(3)}% (${done}/${total}) ${detail}\n`);
  }
}
