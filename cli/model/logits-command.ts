import type { Device } from '../../native-models/onnx/device.ts';
import { loadLocalModel } from './load-model.ts';
import { readMessagesFile, withImagesRead } from './messages-file.ts';
import { asCliErrors } from './run-model-command.ts';
import { onStdoutClosed } from './stdout-closed.ts';

const TOP = 10;

export async function runLogits(modelDir: string, opts: { messages: string; json?: boolean; device?: Device }): Promise<void> {
  const messages = await withImagesRead(readMessagesFile(opts.messages));
  const model = await loadLocalModel(modelDir, opts.device ?? 'auto');
  // A reader that stops early (| head) has all it wanted; nothing to report.
  onStdoutClosed(() => undefined);
  try {
    const { prompt, inputIds, logits } = await asCliErrors(() => model.logits(messages));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ prompt, input_ids: inputIds, logits: Array.from(logits) })}\n`);
      return;
    }
    const top = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!).slice(0, TOP);
    const lines = [
      `prompt: ${JSON.stringify(prompt)}`,
      `input_ids (${inputIds.length}): ${inputIds.join(' ')}`,
      `next-token logits over ${logits.length} tokens; top ${TOP}:`,
      ...top.map((id, i) => `  ${String(i + 1).padStart(2)}. ${String(id).padStart(6)} ${JSON.stringify(model.tokenizer.decode([id])).padEnd(24)} ${logits[id]!.toFixed(6)}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await model.release();
  }
}
