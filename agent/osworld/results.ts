import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFolder, writeFileAtomic } from '../../shared/files.ts';
import { folderNameProblem } from '../../shared/folder-name.ts';
import { TaskFormatError, type OsworldTask } from './task.ts';

/**
 * OSWorld's layout: `<out>/<domain>/<id>/` holds result.txt, traj.jsonl and the step screenshots.
 * The task file names both levels, so each must be one plain folder name: nothing is ever
 * written beside or above `out`.
 */
export function exampleDir(out: string, task: Pick<OsworldTask, 'domain' | 'id'>): string {
  for (const [what, name] of [['domain', task.domain], ['id', task.id]] as const) {
    const problem = folderNameProblem(name);
    if (problem) throw new TaskFormatError(`task ${what} ${JSON.stringify(name)} ${problem}; it cannot name a results folder`);
  }
  return join(out, task.domain, task.id);
}

/** result.txt holds the score as a number, which OSWorld's own tooling parses with float(). */
export async function writeScore(dir: string, score: number): Promise<void> {
  await makeFolder(dir);
  await rm(join(dir, 'unsupported.txt'), { force: true });
  await writeFileAtomic(join(dir, 'result.txt'), `${Number.isInteger(score) ? score.toFixed(1) : score}\n`);
}

/**
 * An unsupported task gets no result.txt (OSWorld's tooling would count any text there as a
 * failure) but an unsupported.txt saying why, which Kestrel's summary counts separately.
 */
export async function writeUnsupported(dir: string, reasons: readonly string[]): Promise<void> {
  await makeFolder(dir);
  await rm(join(dir, 'result.txt'), { force: true });
  await writeFileAtomic(join(dir, 'unsupported.txt'), `${reasons.join('\n')}\n`);
}

export interface DomainSummary {
  readonly domain: string;
  /** Tasks with a result.txt. */
  readonly runs: number;
  /** Sum of their scores (a score may be fractional). */
  readonly score: number;
  /** score / runs, 0 when none ran. */
  readonly successRate: number;
  readonly unsupported: number;
  /** result.txt files that did not hold a number. */
  readonly unreadable: number;
}

export interface ResultsSummary {
  readonly domains: readonly DomainSummary[];
  readonly total: DomainSummary;
}

/**
 * Walks a results folder — Kestrel's `<out>/<domain>/<id>/` or OSWorld's deeper
 * `<action_space>/<observation>/<model>/<domain>/<id>/` — and tallies scores per domain (the
 * folder above each task folder).
 */
export async function summarizeResults(root: string): Promise<ResultsSummary> {
  const tally = new Map<string, { runs: number; score: number; unsupported: number; unreadable: number }>();
  const entry = (domain: string) => {
    if (!tally.has(domain)) tally.set(domain, { runs: 0, score: 0, unsupported: 0, unreadable: 0 });
    return tally.get(domain)!;
  };
  const walk = async (dir: string, parent: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
    if (names.has('result.txt')) {
      const text = (await readFile(join(dir, 'result.txt'), 'utf8')).trim();
      const value = Number(text);
      const t = entry(parent);
      if (text === '' || !Number.isFinite(value)) t.unreadable += 1;
      else {
        t.runs += 1;
        t.score += value;
      }
      return;
    }
    if (names.has('unsupported.txt')) {
      entry(parent).unsupported += 1;
      return;
    }
    const here = dir.split(/[\\/]/).pop() ?? '';
    for (const sub of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      await walk(join(dir, sub.name), here);
    }
  };
  try {
    await walk(root, '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`results folder ${root} does not exist`);
    throw err;
  }
  const make = (domain: string, t: { runs: number; score: number; unsupported: number; unreadable: number }): DomainSummary => ({
    domain,
    ...t,
    successRate: t.runs === 0 ? 0 : t.score / t.runs,
  });
  const domains = [...tally.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([d, t]) => make(d, t));
  const sum = (key: 'runs' | 'score' | 'unsupported' | 'unreadable'): number => domains.reduce((n, d) => n + d[key], 0);
  return {
    domains,
    total: make('total', { runs: sum('runs'), score: sum('score'), unsupported: sum('unsupported'), unreadable: sum('unreadable') }),
  };
}

export function formatResultsSummary(summary: ResultsSummary): string {
  const line = (d: DomainSummary): string => {
    const extra = [d.unsupported ? `${d.unsupported} unsupported` : '', d.unreadable ? `${d.unreadable} unreadable` : '']
      .filter(Boolean)
      .join(', ');
    return `${d.domain}: ${(d.successRate * 100).toFixed(2)}% success over ${d.runs} run${d.runs === 1 ? '' : 's'}${extra ? ` (${extra})` : ''}`;
  };
  return [...summary.domains.map(line), line(summary.total)].join('\n');
}
