import type { LocalChatMessage } from '../../native-models/models/kimi-vl/local-model.ts';
import type { Device } from '../../native-models/onnx/device.ts';
import { checkImages } from '../ground/read-image.ts';
import { loadLocalModel } from './load-model.ts';
import { asCliErrors } from './run-model-command.ts';
import { onStdoutClosed } from './stdout-closed.ts';

export interface ChatOptions {
  readonly maxTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  readonly system?: string;
  /** Image files sent before the prompt text, as in the official examples. */
  readonly image?: readonly string[];
  readonly device?: Device;
}

export async function runChat(modelDir: string, prompt: string, opts: ChatOptions): Promise<void> {
  // The images first, the same way `ground` reads its image: a bad path is one line before the load.
  const images = await checkImages(opts.image ?? []);
  const model = await loadLocalModel(modelDir, opts.device ?? 'auto');
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  onStdoutClosed(() => controller.abort());
  try {
    const content = images.length === 0 ? prompt : [...images.map(({ bytes }) => ({ type: 'image' as const, image: { data: bytes } })), { type: 'text' as const, text: prompt }];
    const messages: LocalChatMessage[] = [...(opts.system ? [{ role: 'system' as const, content: opts.system }] : []), { role: 'user', content }];
    const r = await asCliErrors(() =>
      model.generate({ messages, maxTokens: opts.maxTokens, temperature: opts.temperature, topP: opts.topP, seed: opts.seed, signal: controller.signal, onToken: (d) => process.stdout.write(d) }),
    );
    process.stdout.write('\n');
    const t = r.timings;
    const rate = (v?: number) => (v === undefined ? 'n/a' : `${v.toFixed(1)} tok/s`);
    process.stderr.write(
      `${r.usage.completionTokens} tokens, finish: ${r.finishReason}; prompt ${r.usage.promptTokens} tokens at ${rate(t.promptTokensPerSecond)}, decode ${rate(t.decodeTokensPerSecond)}, first token ${t.firstTokenMs?.toFixed(0) ?? 'n/a'} ms\n`,
    );
  } finally {
    process.off('SIGINT', onSigint);
    await model.release();
  }
}
