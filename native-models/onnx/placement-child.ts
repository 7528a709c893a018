/**
 * Run by placement.ts in a child process: opens one model with onnxruntime's verbose log on, so
 * the node placements it prints go to this process's stderr, where the parent reads them. The
 * last stderr line is ours: `kestrel-placement: ok`, or the error and whether the device could
 * not be had.
 */
import { DeviceUnavailableError, openSession } from './backend.ts';
import type { Device } from './device.ts';

const [modelFile, device, optimization, cpuNodes] = process.argv.slice(2) as [string, Device, 'all' | 'disabled', string];
try {
  const session = await openSession(modelFile, { device, verboseLog: true, graphOptimization: optimization, cpuNodes: JSON.parse(cpuNodes) as string[], note: () => undefined });
  await session.release();
  process.stderr.write(`\nkestrel-placement: ok ${session.device}\n`);
} catch (err) {
  const kind = err instanceof DeviceUnavailableError ? 'device' : 'error';
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  process.stderr.write(`\nkestrel-placement: ${kind} ${message}\n`);
  process.exitCode = 1;
}
