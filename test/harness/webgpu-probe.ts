/**
 * Run as a child process (test/harness/webgpu.ts): opens a one-node graph on WebGPU through
 * Kestrel's own backend, runs it, and prints one JSON line, `{"ok": true}` or `{"ok": false,
 * "reason": "…"}`. A child, so that its environment can differ from the tests' and a failed
 * start leaves nothing behind in the test process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession } from '../../native-models/onnx/backend.ts';
import { GraphBuilder } from '../../native-models/onnx/graph-builder.ts';
import { writeModel } from '../../native-models/onnx/model-writer.ts';
import { DataType } from '../../native-models/onnx/onnx-proto.ts';

const dir = mkdtempSync(join(tmpdir(), 'kestrel-webgpu-probe-'));
let result: { ok: boolean; reason?: string };
try {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [4]);
  g.output(g.op('Add', [x, x], 'y'), DataType.FLOAT);
  const { modelFile } = await writeModel(g, dir, 'probe');
  const session = await openSession(modelFile, { device: 'webgpu' });
  const y = (await session.run({ x: { type: 'float32', data: Float32Array.of(1, 2, 3, 4), dims: [4] } })).y!;
  await session.release();
  const got = y.data instanceof Float32Array ? Array.from(y.data).join() : `a ${y.type} tensor`;
  result = got === '2,4,6,8' ? { ok: true } : { ok: false, reason: `WebGPU started but computed ${got} for 2·[1,2,3,4]` };
} catch (err) {
  result = { ok: false, reason: err instanceof Error ? err.message : String(err) };
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
