import type { DisplayInfo, Screenshot } from '../operator.ts';
import { runTool } from './tools.ts';

/** One display's pixels as PNG, cut from the root window by ImageMagick's `import`. */
export async function captureX11(display: DisplayInfo, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Screenshot> {
  const { x, y, width, height } = display.bounds;
  const geometry = `${width}x${height}${x >= 0 ? '+' : ''}${x}${y >= 0 ? '+' : ''}${y}`;
  const { stdout } = await runTool('import', ['-silent', '-window', 'root', '-crop', geometry, '+repage', 'png:-'], { env, ...(signal ? { signal } : {}), timeoutMs: 15_000 });
  if (stdout.length < 8 || stdout.readUInt32BE(0) !== 0x89504e47) throw new Error('the screen capture did not return a PNG');
  return { png: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength), width: stdout.readUInt32BE(16), height: stdout.readUInt32BE(20), display, capturedAt: Date.now() };
}
