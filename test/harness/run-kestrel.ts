import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KESTREL_BIN, REPO_ROOT } from './cli.ts';

const execFileAsync = promisify(execFile);

export interface KestrelResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `kestrel …` to completion and returns its exit code and output, whatever the code. */
export async function runKestrel(args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 90_000): Promise<KestrelResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [KESTREL_BIN, ...args], { cwd: REPO_ROOT, env, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
