import type { DisplayInfo, Screenshot } from '../operator.ts';
import { pngSize } from './png-size.ts';
import { runTool } from './tools.ts';

/** One display's pixels as PNG, cut from the root window by ImageMagick's `import`. */
export async function captureX11(display: DisplayInfo, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Screenshot> {
  const { x, y, width, height } = display.bounds;
  const geometry = `${width}x${height}${x >= 0 ? '+' : ''}${x}${y >= 0 ? '+' : ''}${y}`;
  const { stdout } = await runTool('import', ['-silent', '-window', 'root', '-crop', geometry, '+repage', 'png:-'], { env, ...(signal ? { signal } : {}), timeoutMs: 15_000 });
  const png = new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength);
  return { png, ...pngSize(png), display, capturedAt: Date.now() };
}
