import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const PROBE = resolve(import.meta.dirname, 'webgpu-probe.ts');
export const INSTALL_LAVAPIPE = resolve(import.meta.dirname, '../../scripts/install-lavapipe.sh');

/** What to install where WebGPU has no adapter: Mesa's lavapipe, a Vulkan driver on the CPU. */
export const WEBGPU_FIX = `install Mesa's lavapipe (a Vulkan driver that runs on the CPU): sudo ${INSTALL_LAVAPIPE} (on Debian bookworm: apt-get install -t bookworm-backports mesa-vulkan-drivers)`;

/**
 * Environment in which the Vulkan loader finds no driver: the machine as it is without one,
 * for the device tests' "no Vulkan driver" case on a machine that has one.
 */
export const NO_VULKAN_DRIVER: NodeJS.ProcessEnv = { VK_DRIVER_FILES: '/nonexistent/vulkan/icd.d', VK_ICD_FILENAMES: '/nonexistent/vulkan/icd.d' };

export interface WebGpuStatus {
  readonly ok: boolean;
  readonly reason?: string;
}

/** Whether WebGPU starts and computes here, asked of a child process running Kestrel's backend. */
export function probeWebGpu(env: NodeJS.ProcessEnv = process.env): WebGpuStatus {
  const r = spawnSync(process.execPath, ['--import', 'tsx', PROBE], { env, encoding: 'utf8', timeout: 120_000 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as WebGpuStatus;
  } catch {
    return { ok: false, reason: `the WebGPU probe exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-300)}` };
  }
}

/** Dawn's warnings about lavapipe's limits, printed straight to stderr when the device starts; nothing in-process can silence them. */
export const DRIVER_WARNING = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

/** stderr without Dawn's lavapipe warnings (see DRIVER_WARNING). */
export function withoutDriverWarnings(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !DRIVER_WARNING.test(line))
    .join('\n');
}
