import { spawn, type ChildProcess } from 'node:child_process';
import { CliError } from '../errors.ts';

export interface PrivateDisplay {
  /** e.g. ":57" */
  readonly display: string;
  stop(): Promise<void>;
}

/**
 * A fresh Xvfb display of our own for `kestrel ui --virtual`: the agent works there and never
 * touches the person's desktop. Xvfb picks a free number itself (-displayfd).
 */
export async function startPrivateDisplay(width = 1280, height = 800): Promise<PrivateDisplay> {
  let xvfb: ChildProcess;
  try {
    xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    throw new CliError(`could not start Xvfb for --virtual (${(err as Error).message}); install it with: apt-get install xvfb`);
  }
  const display = await new Promise<string>((done, fail) => {
    let text = '';
    let stderr = '';
    const timer = setTimeout(() => fail(new CliError('Xvfb did not report a display within 15 s')), 15_000);
    xvfb.stdio[2]?.on('data', (c: Buffer) => (stderr += c.toString()));
    xvfb.stdio[3]?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        done(`:${text.trim()}`);
      }
    });
    xvfb.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(
        new CliError(
          err.code === 'ENOENT'
            ? 'Xvfb is not installed, and --virtual needs it; install it with: apt-get install xvfb'
            : `could not start Xvfb (${err.message})`,
        ),
      );
    });
    xvfb.once('exit', (code) => {
      clearTimeout(timer);
      fail(new CliError(`Xvfb exited during start-up with code ${code}: ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
  return {
    display,
    stop: () =>
      new Promise((done) => {
        if (xvfb.exitCode !== null || xvfb.signalCode !== null) return done();
        xvfb.once('exit', () => done());
        xvfb.kill('SIGTERM');
      }),
  };
}
