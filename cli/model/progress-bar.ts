/**
 * A progress bar on stderr: redrawn in place on a terminal; on a pipe or log file, one line
 * per step (a tenth by default) so logs stay short.
 */
export class ProgressBar {
  private lastStep = -1;
  private lastLabel = '';
  /** A line drawn in place on a terminal and not yet ended. */
  private open = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly width = 30,
    /** Lines per phase on a pipe, besides the one at 0%. */
    private readonly steps = 10,
  ) {}

  update(label: string, done: number, total: number, detail = ''): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const percent = Math.floor(fraction * 100);
    if (this.stream.isTTY) {
      const filled = Math.round(fraction * this.width);
      const bar = '█'.repeat(filled) + '░'.repeat(this.width - filled);
      this.draw(`${label} ${bar} ${String(percent).padStart(3)}% ${detail}`);
      if (fraction >= 1) this.end();
      return;
    }
    const step = Math.floor(fraction * this.steps);
    if (label !== this.lastLabel) this.lastStep = -1;
    if (step === this.lastStep) return;
    this.lastStep = step;
    this.lastLabel = label;
    this.stream.write(`${label} ${String(percent).padStart(3)}% (${done}/${total}) ${detail}\n`);
  }

  /** A phase that cannot say how far it got: a line of its own (replacing a bar drawn in place). */
  note(label: string, detail = ''): void {
    const line = `${label} ${detail}`.trimEnd();
    if (this.stream.isTTY) {
      this.draw(line);
      this.end();
    } else {
      this.stream.write(`${line}\n`);
    }
    this.lastLabel = '';
  }

  /** Ends a line drawn in place, so what comes next (an error, say) starts on its own line. */
  end(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }

  private draw(line: string): void {
    const columns = this.stream.columns ?? 100;
    this.stream.write(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`);
    this.open = true;
  }
}
