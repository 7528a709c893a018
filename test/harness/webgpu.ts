import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What to install when onnxruntime's WebGPU provider cannot start here. */
export const WEBGPU_FIX = "install a Vulkan driver — on this kind of machine Mesa's lavapipe: apt-get install -t bookworm-backports mesa-vulkan-drivers (with the bookworm-backports suite in apt's sources)";

/**
 * Gives this process (and the children it starts) a private XDG_RUNTIME_DIR, mode 700, unless
 * it has one: Mesa prints warnings on every start without it.
 */
export function privateRuntimeDir(): void {
  if (process.env.XDG_RUNTIME_DIR) return;
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-xdg-'));
  chmodSync(dir, 0o700);
  process.env.XDG_RUNTIME_DIR = dir;
}
