/**
 * Where onnxruntime places each node of a model on a device: the provider it assigned, read from
 * the verbose session log (the "Node placements" section onnxruntime prints once the graph is
 * partitioned). The log goes to the native stderr, so the model is opened in a child process
 * (placement-child.ts) whose stderr is a file, parsed here: into a pipe that the parent empties
 * too slowly (a busy machine) onnxruntime's writes fail and lines of the log are lost. Opening is what a run does — for a large
 * model on a GPU that means uploading its weights.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeviceUnavailableError } from './backend.ts';
import type { Device, ExecutionDevice } from './device.ts';

export interface PlacedNode {
  /** onnxruntime's provider name: `WebGpuExecutionProvider`, `CPUExecutionProvider`, … */
  readonly provider: string;
  readonly opType: string;
  readonly name: string;
}

export interface Placement {
  readonly device: ExecutionDevice;
  readonly nodes: readonly PlacedNode[];
}

export const CPU_PROVIDER = 'CPUExecutionProvider';

/** Op type and name of a node onnxruntime counted but did not list (one provider took them all). */
export const UNLISTED = '?';

const PROVIDER_NAMES: Readonly<Record<ExecutionDevice, string>> = { cpu: CPU_PROVIDER, cuda: 'CUDAExecutionProvider', webgpu: 'WebGpuExecutionProvider' };

export function providerName(device: ExecutionDevice): string {
  return PROVIDER_NAMES[device];
}

const LOG_TAG = 'VerifyEachNodeIsAssignedToAnEp]';

/**
 * The placements in an onnxruntime verbose log. Where one provider took every node onnxruntime
 * prints only the count, so those nodes come back with their op type and name UNLISTED.
 */
export function parsePlacementLog(log: string): PlacedNode[] {
  const nodes: PlacedNode[] = [];
  let provider: string | undefined;
  let listed = 0;
  let expected = 0;
  const finish = () => {
    if (provider && listed === 0) for (let i = 0; i < expected; i++) nodes.push({ provider, opType: UNLISTED, name: UNLISTED });
  };
  let seen = false;
  for (const line of log.split('\n')) {
    const at = line.indexOf(LOG_TAG);
    if (at < 0) continue;
    const text = line.slice(at + LOG_TAG.length);
    const header = /^\s+(?:All nodes|Node\(s\)) placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(text);
    if (header) {
      finish();
      seen = true;
      provider = header[1]!;
      expected = Number(header[2]);
      listed = 0;
      continue;
    }
    const node = /^\s+(\S+) \((.*)\)\s*$/.exec(text);
    if (node && provider) {
      nodes.push({ provider, opType: node[1]!, name: node[2]! });
      listed++;
    }
  }
  finish();
  if (!seen) throw new Error("onnxruntime's verbose log has no node placements (has its format changed?)");
  return nodes;
}

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const CHILD = fileURLToPath(new URL('./placement-child.ts', import.meta.url));

/**
 * Opens the model on the device (`auto`: the one a run would pick) in a child process and returns
 * where each node was placed; `cpuNodes` as a run passes them (SessionOptions.cpuNodes).
 */
export function readPlacement(modelFile: string, device: Device, opts: { optimization?: 'all' | 'disabled'; cpuNodes?: readonly string[] } = {}): Promise<Placement> {
  return new Promise((resolve, reject) => {
    const args = [modelFile, device, opts.optimization ?? 'all', JSON.stringify(opts.cpuNodes ?? [])];
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-placement-'));
    const logFile = join(dir, 'stderr.log');
    const fd = openSync(logFile, 'w');
    const child = spawn(process.execPath, ['--import', tsxLoader, CHILD, ...args], { stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    const readLog = () => {
      try {
        return readFileSync(logFile, 'utf8');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    child.on('error', (err) => {
      rmSync(dir, { recursive: true, force: true });
      reject(err);
    });
    child.on('close', () => {
      const log = readLog();
      const last = /kestrel-placement: (ok|device|error) ?(.*)$/m.exec(log.trimEnd().split('\n').at(-1) ?? '');
      if (!last) return reject(new Error(`reading node placement failed: ${log.trim().split('\n').at(-1) ?? 'no output'}`));
      if (last[1] === 'device') return reject(new DeviceUnavailableError(last[2]!));
      if (last[1] === 'error') return reject(new Error(last[2]!));
      try {
        resolve({ device: last[2] as ExecutionDevice, nodes: parsePlacementLog(log) });
      } catch (err) {
        reject(err);
      }
    });
  });
}
