import { Option, type Command } from 'commander';
import { DEVICES, IMPORT_PRECISIONS, type Device, type ImportPrecision } from '../../native-models/index.ts';
import { deviceOption } from '../model-options.ts';
import { nonNegativeNumber, positiveInt, wholeNumber } from '../options.ts';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, withHelp } from './help.ts';

export function registerModel(program: Command): void {
  const model = program.command('model').description('import and inspect local Kimi-VL models');
  withHelp(model, {
    examples: [
      'kestrel model import ~/models/kimi-vl --out ~/models/kimi-vl-onnx',
      'kestrel model chat ~/models/kimi-vl-onnx "Where is Save?" --image shot.png',
      'kestrel model logits ~/models/kimi-vl-onnx --messages chat.json --json',
      'kestrel model verify ~/models/kimi-vl-onnx',
    ],
    exitCodes: [[0, 'done'], EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED],
  });
  const importCommand = model.command('import');
  withHelp(importCommand, {
    examples: [
      'kestrel model import ~/models/kimi-vl --out ~/models/kimi-vl-onnx',
      'kestrel model import ~/models/kimi-vl --out ~/models/kimi-vl-int4 --device cuda   # int4, for the GPU',
      'kestrel model import ~/models/kimi-vl --out ~/models/kimi-vl-onnx   # again after Ctrl-C: takes over its own partial output',
    ],
    exitCodes: [
      [0, 'imported; the folder holds kestrel-model.json'],
      [1, 'the import failed (the checkpoint, the room on disk); the line on stderr says what'],
      [2, 'usage: a bad flag, or --out names a folder that is not empty and is not an import'],
      [130, 'interrupted (Ctrl-C): what was written is removed, or taken over by the same command run again'],
    ],
  });
  importCommand
    .description('convert a Hugging Face Kimi-VL checkpoint folder into an ONNX model folder')
    .argument('<hf-dir>', 'the downloaded checkpoint folder')
    .requiredOption('--out <dir>', 'where to write the model folder (created; must be empty or an earlier import)')
    .addOption(
      new Option('--precision <precision>', 'weight precision (int4: block-wise 4-bit MatMulNBits + QMoE, a sixth of fp32 on disk); auto: int4, on a GPU and on the CPU alike (faster there than fp32 and a sixth of its memory); fp32 is the reference')
        .choices(IMPORT_PRECISIONS)
        .default('auto'),
    )
    .addOption(deviceOption('the device the model is for, which --precision auto follows (auto: a GPU if its provider is installed)'))
    .addOption(
      new Option('--kv-cache <type>', 'the KV cache element type; auto: fp16 for a GPU (half of what crosses to CUDA each step) or an fp16 model, else fp32')
        .choices(['auto', 'fp16', 'fp32'])
        .default('auto'),
    )
    .option('--hash-source', "also compute the checkpoint shards' SHA-256 for the manifest (reads the whole checkpoint once more); without it a shard in a Hugging Face cache is recorded by its blob's name (its SHA-256), any other by its size and modification time")
    .option('--workers <n>', 'threads converting the weights (default: one per core, at most 4, for a checkpoint of 512 MB or more; 0: all on the main thread)', wholeNumber('--workers'))
    .action(async (source: string, opts: { out: string; precision: ImportPrecision; device: Device; kvCache: 'auto' | 'fp16' | 'fp32'; hashSource?: boolean; workers?: number }) => {
      const { runImport } = await import('../model/import-command.ts');
      await runImport(source, opts);
    });
  const logits = model.command('logits');
  withHelp(logits, {
    examples: ['kestrel model logits ~/models/kimi-vl-onnx --messages chat.json --json > logits.json', 'kestrel model logits ~/models/kimi-vl-onnx --messages chat.json | head'],
    exitCodes: [[0, 'done'], EXIT_FAILED, [2, 'usage: a bad flag, messages file or image']],
  });
  logits
    .description('print the rendered prompt, its token ids and the next-token logits')
    .argument('<model-dir>', 'an imported model folder')
    .requiredOption('--messages <file>', 'chat as JSON: [{"role": "user", "content": "..."}]; image parts {"type": "image", "image": "/path.png"}')
    .option('--json', 'print exactly one JSON object {"prompt", "input_ids", "logits"}')
    .addOption(deviceOption())
    .action(async (modelDir: string, opts: { messages: string; json?: boolean; device: Device }) => {
      const { runLogits } = await import('../model/logits-command.ts');
      await runLogits(modelDir, opts);
    });
  const info = model.command('info');
  withHelp(info, {
    examples: ['kestrel model info ~/models/kimi-vl-onnx', 'kestrel model info ~/models/kimi-vl-onnx --device webgpu --json'],
    exitCodes: [[0, 'done'], EXIT_FAILED, EXIT_USAGE],
  });
  info
    .description('print an imported model\'s precision, sizes, context length and KV cache; with --device, which nodes fall back to the CPU there')
    .argument('<model-dir>', 'an imported model folder')
    .addOption(new Option('--device <device>', 'open the graphs on this device and report where onnxruntime places their nodes').choices(DEVICES))
    .option('--json', 'print one JSON object')
    .action(async (modelDir: string, opts: { device?: Device; json?: boolean }) => {
      const { runInfo } = await import('../model/info-command.ts');
      await runInfo(modelDir, opts);
    });
  const verify = model.command('verify');
  withHelp(verify, {
    examples: ['kestrel model verify ~/models/kimi-vl-onnx'],
    exitCodes: [[0, 'every file matches the manifest'], [1, 'a file or piece does not match, or is missing (one line each on stderr)'], EXIT_USAGE, EXIT_INTERRUPTED],
  });
  verify
    .description("read every file of an imported model folder and check it against the manifest's SHA-256 records (the weights piece by piece)")
    .argument('<model-dir>', 'an imported model folder')
    .action(async (modelDir: string) => {
      const { runVerify } = await import('../model/verify-command.ts');
      await runVerify(modelDir);
    });
  const chat = model.command('chat');
  withHelp(chat, {
    examples: ['kestrel model chat ~/models/kimi-vl-onnx "Hello"', 'kestrel model chat ~/models/kimi-vl-onnx "Where is the Save button?" --image shot.png --max-tokens 64'],
    exitCodes: [[0, 'done'], EXIT_FAILED, [2, 'usage: a bad flag or image'], EXIT_INTERRUPTED],
  });
  chat
    .description('chat with an imported model from the terminal')
    .argument('<model-dir>', 'an imported model folder')
    .argument('<prompt>', 'the message to send')
    .option('--max-tokens <n>', 'most tokens to generate', positiveInt('--max-tokens'), 256)
    .option('--temperature <t>', 'sampling temperature; 0 is greedy', nonNegativeNumber('--temperature'), 0)
    .option('--top-p <p>', 'nucleus sampling mass (0–1]', nonNegativeNumber('--top-p'), 1)
    .option('--seed <n>', 'random seed for sampling', wholeNumber('--seed'), 0)
    .option('--system <text>', 'system prompt (default: the template\'s own)')
    .option('--image <file>', 'attach an image (PNG, JPEG, …) before the prompt; repeat for several', (file: string, files: string[]) => [...files, file], [] as string[])
    .addOption(deviceOption())
    .action(async (modelDir: string, prompt: string, opts: { maxTokens: number; temperature: number; topP: number; seed: number; system?: string; image: string[]; device: Device }) => {
      const { runChat } = await import('../model/chat-command.ts');
      await runChat(modelDir, prompt, opts);
    });
}
