import { spawnSync } from 'node:child_process';
import { INSTALL_LAVAPIPE, WEBGPU_FIX, probeWebGpu } from './webgpu.ts';

/**
 * Before any WebGPU test: WebGPU must start here. As root (CI) a missing adapter is installed —
 * Mesa's lavapipe, with scripts/install-lavapipe.sh — and probed again; otherwise, or if that did
 * not help, every WebGPU test fails with one line naming what to install. Never a skip.
 */
export default function setup(): void {
  let status = probeWebGpu();
  if (!status.ok && process.getuid?.() === 0) {
    const install = spawnSync(INSTALL_LAVAPIPE, [], { encoding: 'utf8' });
    if (install.status !== 0) throw new Error(`WebGPU has no adapter here (${status.reason}), and ${INSTALL_LAVAPIPE} failed: ${install.stderr.trim().slice(-300)}`);
    status = probeWebGpu();
  }
  if (!status.ok) throw new Error(`WebGPU has no adapter here (${status.reason}); ${WEBGPU_FIX}`);
}
