import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, uptime } from 'node:os';
import type { RunWriter } from './format.ts';

let boot: string | undefined;

/**
 * This boot of this machine, hashed. Linux names each boot (boot_id); elsewhere the host name
 * and the boot time to the minute stand in. A run written before a reboot is never alive.
 */
function bootToken(): string {
  if (boot === undefined) {
    let id: string;
    try {
      id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      id = `${hostname()} ${Math.round((Date.now() - uptime() * 1000) / 60_000)}`;
    }
    boot = createHash('sha256').update(id).digest('hex').slice(0, 16);
  }
  return boot;
}

/** The process that is recording, as run.json stores it. */
export function currentWriter(): RunWriter {
  return { pid: process.pid, boot: bootToken() };
}

/**
 * Whether the process that wrote a run is still running: same boot, and its pid alive. A run
 * without a writer (older Kestrel) cannot be checked and counts as gone.
 */
export function writerAlive(writer: RunWriter | undefined): boolean {
  if (!writer || typeof writer.pid !== 'number' || !Number.isInteger(writer.pid) || writer.pid <= 0 || writer.boot !== bootToken()) return false;
  if (writer.pid === process.pid) return true;
  try {
    process.kill(writer.pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
