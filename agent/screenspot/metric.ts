import type { AccuracySummary, PixelBox, PixelPoint, Tally } from './types.ts';

export type { AccuracySummary, PixelPoint, Tally };

/** ScreenSpot's metric: the predicted point lies inside the box, edges included; no point is a miss. */
export function pointInBox(point: PixelPoint | null | undefined, box: PixelBox): boolean {
  if (!point || !Number.isFinite(point.x) || !Number.isFinite(point.y)) return false;
  return point.x >= box.x1 && point.x <= box.x2 && point.y >= box.y1 && point.y <= box.y2;
}


export interface ScoredSample {
  readonly correct: boolean;
  readonly dataType: string;
  readonly platform?: string;
  readonly application?: string;
  readonly group?: string;
}


function tally(samples: readonly ScoredSample[]): Tally {
  const correct = samples.filter((s) => s.correct).length;
  return { total: samples.length, correct, accuracy: samples.length === 0 ? 0 : correct / samples.length };
}

function by(samples: readonly ScoredSample[], key: (s: ScoredSample) => string | undefined): Record<string, Tally> {
  const groups = new Map<string, ScoredSample[]>();
  for (const sample of samples) {
    const name = key(sample);
    if (name === undefined) continue;
    groups.set(name, [...(groups.get(name) ?? []), sample]);
  }
  return Object.fromEntries([...groups.keys()].sort().map((name) => [name, tally(groups.get(name)!)]));
}

/** Accuracy overall and broken down the way the ScreenSpot papers report it. */
export function summarize(samples: readonly ScoredSample[]): AccuracySummary {
  return {
    overall: tally(samples),
    byDataType: by(samples, (s) => s.dataType),
    byPlatform: by(samples, (s) => s.platform),
    byApplication: by(samples, (s) => s.application),
    byGroup: by(samples, (s) => s.group),
  };
}

const percent = (t: Tally): string => `${(t.accuracy * 100).toFixed(2)}% (${t.correct}/${t.total})`;

/** A plain-text table of the summary, one line per bucket. */
export function formatSummary(summary: AccuracySummary): string {
  const lines = [`overall: ${percent(summary.overall)}`];
  const sections: [string, Record<string, Tally>][] = [
    ['type', summary.byDataType],
    ['platform', summary.byPlatform],
    ['application', summary.byApplication],
    ['group', summary.byGroup],
  ];
  for (const [label, buckets] of sections) {
    for (const [name, t] of Object.entries(buckets)) lines.push(`${label} ${name}: ${percent(t)}`);
  }
  return lines.join('\n');
}
