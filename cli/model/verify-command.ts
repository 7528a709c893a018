import { formatBytes } from '../../native-models/index.ts';
import { verifyModelFolder } from '../../native-models/runtime.ts';
import { CliError } from '../errors.ts';
import { catchInterrupt } from '../interrupt.ts';

/**
 * `kestrel model verify`: reads every file of an imported model folder and compares it with the
 * manifest's record (weights piece by piece). One line per damaged piece or file on stderr, exit 1.
 */
export async function runVerify(dir: string): Promise<void> {
  const interrupt = catchInterrupt();
  const started = performance.now();
  let check;
  try {
    check = await verifyModelFolder(dir, {
      signal: interrupt.signal,
      onFile: (file, index, total) => process.stderr.write(`kestrel: checking ${file} (${index + 1} of ${total})\n`),
    });
  } catch (err) {
    if (interrupt.signal.aborted) throw new CliError('verify interrupted; nothing was changed', 130);
    throw err;
  } finally {
    interrupt.dispose();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (check.problems.length > 0) {
    for (const problem of check.problems) process.stderr.write(`kestrel: ${problem}\n`);
    throw new CliError(`${dir}: ${check.problems.length} of the manifest's records do not match what is on disk (above)`);
  }
  process.stdout.write(`${dir}: all ${check.files} files match the manifest (${formatBytes(check.bytes)} read in ${seconds} s)\n`);
}
