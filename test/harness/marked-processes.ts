import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Finds every process started under a marker: each descendant inherits the environment, so a
 * variable unique to one test finds what a command left behind, even once it is orphaned, and
 * never another test's processes. Linux (/proc) only.
 */
export interface ProcessMark {
  /** Environment to start the command with: process.env plus the marker. */
  readonly env: NodeJS.ProcessEnv;
  /** Live processes carrying the marker, as "pid command line". */
  alive(): string[];
}

export function markProcesses(base: NodeJS.ProcessEnv = process.env): ProcessMark {
  const mark = `KESTREL_TEST_MARK=${randomUUID()}`;
  return {
    env: { ...base, KESTREL_TEST_MARK: mark.slice('KESTREL_TEST_MARK='.length) },
    alive() {
      const found: string[] = [];
      for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
        try {
          if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(mark)) continue;
          // A zombie has exited; only its parent has not collected it yet.
          if (/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'latin1'))) continue;
          found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim()}`);
        } catch {
          // gone meanwhile, or not ours to read
        }
      }
      return found;
    },
  };
}
