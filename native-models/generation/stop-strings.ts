/**
 * Stop strings over streamed text: text is released only once it cannot be the start of a
 * stop string, so a stop string split across tokens is never partly shown to the caller.
 */
export class StopStringMatcher {
  private pending = '';
  private readonly longest: number;

  constructor(private readonly stops: readonly string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Adds generated text; returns what may be emitted now and whether a stop string was hit. */
  push(delta: string): { emit: string; stopped: boolean } {
    this.pending += delta;
    let cut = -1;
    for (const s of this.stops) {
      if (!s) continue;
      const at = this.pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const emit = this.pending.slice(0, cut);
      this.pending = '';
      return { emit, stopped: true };
    }
    // Hold back the longest tail that is a prefix of some stop string.
    let hold = 0;
    for (let n = Math.min(this.longest - 1, this.pending.length); n > 0; n--) {
      const tail = this.pending.slice(this.pending.length - n);
      if (this.stops.some((s) => s.startsWith(tail))) {
        hold = n;
        break;
      }
    }
    const emit = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { emit, stopped: false };
  }

  /** At the end of generation the held-back text was not a stop string after all. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }
}
