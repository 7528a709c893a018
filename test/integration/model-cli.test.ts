import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KESTREL_BIN, LOAD_PROGRESS_LINE, REPO_ROOT, runKestrel as kestrel, withoutLoadProgress } from '../harness/cli.ts';
import { argmax, maxAbsDiff } from '../harness/floats.ts';
import { tinyCheckpoint, tempDir } from '../harness/tiny-checkpoint.ts';
import { rehashPieces } from '../harness/weights-record.ts';
import { HfCheckpoint, readJsonFile } from '../../native-models/checkpoint/hf-checkpoint.ts';
import { ChatTemplate } from '../../native-models/models/kimi-vl/processing/chat-template.ts';
import { parseKimiVLConfig, type KimiVLConfig } from '../../native-models/models/kimi-vl/configuration.ts';
import { processImages } from '../../native-models/models/kimi-vl/processing/image-processing.ts';
import { expandMediaPads, MEDIA_PAD_TOKEN_ID } from '../../native-models/models/kimi-vl/runtime/multimodal.ts';
import { encodePng, noise } from '../fixtures/images/png.ts';
import { referenceImageEmbeddings } from '../harness/image-embeddings.ts';
import type { ModelManifest } from '../../native-models/models/kimi-vl/manifest.ts';
import { formatBytes } from '../../native-models/models/kimi-vl/precision.ts';
import { ReferenceTextModel } from '../../native-models/models/kimi-vl/testing/reference-text.ts';
import { KimiTokenizer } from '../../native-models/models/kimi-vl/processing/tokenization.ts';



const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

// Published layout: bf16, sharded with an index.
const ckpt = tinyCheckpoint({ dtype: 'bf16', shards: 2, seed: 5 });
const work = tempDir('model-cli');
const modelDir = join(work.dir, 'kimi-fp32');
let reference: () => ReferenceTextModel;
let tokenizer: KimiTokenizer;
let config: KimiVLConfig;

beforeAll(() => {
  config = parseKimiVLConfig(readJsonFile(join(ckpt.dir, 'config.json'), 'config.json'));
  reference = () => {
    const hf = HfCheckpoint.open(ckpt.dir);
    const ref = new ReferenceTextModel(hf, config.text);
    hf.close();
    return ref;
  };
  tokenizer = KimiTokenizer.fromDir(ckpt.dir, config.text.vocabSize);
});
afterAll(() => {
  ckpt.cleanup();
  work.cleanup();
});

describe('kestrel model import', () => {
  test('converts a sharded bf16 checkpoint, shows progress and writes a manifest with checksums', async () => {
    // fp32 asked for: the other tests compare this folder with the reference (auto would be int4).
    const r = await kestrel(['model', 'import', ckpt.dir, '--out', modelDir, '--device', 'cpu', '--precision', 'fp32']);
    expect(r.stderr).toMatch(/^converting 100% \(\d+\/\d+\) lm_head\.weight$/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Imported .* → .*kimi-fp32 \(fp32, 3 layers, [\d.]+ [kMG]B of weights in [\d.]+ s, \d+ MB\/s\); manifest: kestrel-model\.json\n$/);
    const manifest = JSON.parse(readFileSync(join(modelDir, 'kestrel-model.json'), 'utf8')) as ModelManifest;
    // The last line's size and rate both count the vision tower's file (visible at this size).
    const written = manifest.text.weights.bytes + manifest.vision.weights.bytes;
    expect(formatBytes(written)).not.toBe(formatBytes(manifest.text.weights.bytes));
    expect(r.stdout).toContain(`${formatBytes(written)} of weights in ${manifest.stats.seconds.toFixed(1)} s, ${(written / 1e6 / manifest.stats.seconds).toFixed(0)} MB/s)`);
    expect(manifest.precision).toBe('fp32');
    expect(manifest.text.graph.sha256).toBe(sha256(join(modelDir, 'text-model.onnx')));
    expect(manifest.text.weights.pieces).toEqual(rehashPieces(join(modelDir, 'text-model.onnx.data'), manifest.text.weights));
    expect(manifest.vision.weights.pieces).toEqual(rehashPieces(join(modelDir, 'vision-model.onnx.data'), manifest.vision.weights));
    expect(manifest.source.files.map((f) => f.file)).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
    // A plain folder's shards are not read again to be hashed (no --hash-source): their size and
    // time identify them; the small index is hashed (model-import-source.test.ts: a Hugging Face cache).
    const [first, second, index] = manifest.source.files;
    for (const f of [first!, second!]) expect(f).toEqual({ file: f.file, bytes: statSync(join(ckpt.dir, f.file)).size, modifiedAt: statSync(join(ckpt.dir, f.file)).mtime.toISOString() });
    expect(index).toEqual({ file: 'model.safetensors.index.json', bytes: statSync(join(ckpt.dir, index!.file)).size, sha256: sha256(join(ckpt.dir, index!.file)), sha256From: 'hashed' });
    expect(manifest.files.map((f) => f.file)).toEqual(expect.arrayContaining(['config.json', 'tiktoken.model', 'tokenizer_config.json']));
  });

  test.each([
    [['--precision', 'fp8'], 2, /option '--precision <precision>' argument 'fp8' is invalid/],
    [[], 1, /model_type is "qwen2_vl"; Kestrel imports Kimi-VL checkpoints/],
  ])('refuses bad input %j in one line', async (extra, code, message) => {
    const bad = tempDir('bad-ckpt');
    const cfg = JSON.parse(readFileSync(join(ckpt.dir, 'config.json'), 'utf8'));
    writeFileSync(join(bad.dir, 'config.json'), JSON.stringify({ ...cfg, model_type: 'qwen2_vl' }));
    const r = await kestrel(['model', 'import', bad.dir, '--out', join(bad.dir, 'out'), ...extra]);
    bad.cleanup();
    expect(r.code).toBe(code);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

describe('kestrel model logits', () => {
  const messages = [
    { role: 'system', content: 'You click buttons.' },
    { role: 'user', content: [{ type: 'text', text: 'Where is the Save button? ' }, { type: 'text', text: '保存 🙂' }] },
  ];

  test('--json prints exactly one object whose logits match the reference forward', async () => {
    const file = join(work.dir, 'messages.json');
    writeFileSync(file, JSON.stringify(messages));
    const r = await kestrel(['model', 'logits', modelDir, '--messages', file, '--json', '--device', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout) as { prompt: string; input_ids: number[]; logits: number[] };
    expect(Object.keys(out)).toEqual(['prompt', 'input_ids', 'logits']);
    expect(out.prompt).toBe(ChatTemplate.fromDir(ckpt.dir).render(messages as never));
    expect(out.prompt.startsWith('<|im_system|>system<|im_middle|>You click buttons.<|im_end|>')).toBe(true);
    expect(out.input_ids).toEqual(tokenizer.encode(out.prompt));
    expect(out.logits).toHaveLength(163840);
    expect(maxAbsDiff(out.logits, reference().forward(out.input_ids))).toBeLessThan(1e-4);
  });

  test('loading shows progress on stderr in a few plain lines (not a pipe full of carriage returns); stdout stays exactly the JSON', async () => {
    const file = join(work.dir, 'progress.json');
    writeFileSync(file, JSON.stringify([{ role: 'user', content: 'Hi' }]));
    const r = await kestrel(['model', 'logits', modelDir, '--messages', file, '--json', '--device', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${JSON.stringify(JSON.parse(r.stdout))}\n`);
    const manifest = readJsonFile(join(modelDir, 'kestrel-model.json'), 'manifest') as ModelManifest;
    const total = manifest.text.weights.bytes + manifest.vision.weights.bytes;
    expect(r.stderr).not.toContain('\r');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.every((l) => LOAD_PROGRESS_LINE.test(l))).toBe(true);
    expect(lines.length).toBeLessThanOrEqual(9);
    expect(lines[0]).toBe(`loading weights   0% (0/${total}) reading ${(total / 1e9).toFixed(2)} GB of weights`);
    // The vision model's few weights come first, then its session; then the language model's.
    expect(lines[1]).toBe('loading model: creating the vision session on the CPU');
    expect(lines.slice(-3)).toEqual([
      `loading weights 100% (${total}/${total}) text-model.onnx.data`,
      'loading model: creating the language model session on the CPU',
      expect.stringMatching(/^model loaded in \d+\.\d s$/),
    ]);
    const percents = lines.flatMap((l) => /^loading weights +(\d+)%/.exec(l)?.[1] ?? []).map(Number);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  test('without --json it prints the prompt, the ids and the top tokens', async () => {
    const file = join(work.dir, 'plain.json');
    writeFileSync(file, JSON.stringify([{ role: 'user', content: 'Hi' }]));
    const r = await kestrel(['model', 'logits', modelDir, '--messages', file, '--device', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^prompt: ".*<\|im_user\|>user<\|im_middle\|>Hi<\|im_end\|><\|im_assistant\|>assistant<\|im_middle\|>"\ninput_ids \(\d+\): 163594 [\d ]+ 163601\nnext-token logits over 163840 tokens; top 10:\n( +\d+\. +\d+ .+ -?\d+\.\d{6}\n){10}$/);
  });

  test.each([
    [[{ role: 'user', content: [{ type: 'image', image: '/nonexistent/screen.png' }, { type: 'text', text: 'What is this?' }] }], 2, /^kestrel: cannot read the image \/nonexistent\/screen\.png: no such file$/m],
    [[{ role: 'user', content: [{ type: 'image', image: 'package.json' }, { type: 'text', text: 'What is this?' }] }], 2, /^kestrel: package\.json is not an image Kestrel can read \(.*\); give a PNG or JPEG screenshot$/m],
    [[{ role: 'bot', content: 'hi' }], 2, /message 1 has role "bot"; use "system", "user" or "assistant"/],
    [[{ role: 'user', content: [{ type: 'audio' }] }], 2, /message 1, part 1: expected \{"type": "text"/],
    ['not json', 2, /is not valid JSON/],
  ])('refuses %j in one line', async (content, code, message) => {
    const file = join(work.dir, 'bad.json');
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    const r = await kestrel(['model', 'logits', modelDir, '--messages', file, '--json', '--device', 'cpu']);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    // The messages file and its images are read before the model loads: no load progress.
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  test('a reader that stops early (| head) ends it quietly', async () => {
    const file = join(work.dir, 'early.json');
    writeFileSync(file, JSON.stringify([{ role: 'user', content: 'Hi' }]));
    const child = spawn(process.execPath, [KESTREL_BIN, 'model', 'logits', modelDir, '--messages', file, '--json', '--device', 'cpu'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    expect(withoutLoadProgress(stderr)).toBe('');
    expect(code).toBe(0);
  });

  test('image parts: --json logits match the vision and text references with features at the <|media_pad|> slots', async () => {
    const shot = join(work.dir, 'shot.png');
    writeFileSync(shot, encodePng({ width: 60, height: 30, colour: 'rgb', samples: noise(60 * 30 * 3, 4) }));
    const file = join(work.dir, 'image-messages.json');
    writeFileSync(file, JSON.stringify([{ role: 'user', content: [{ type: 'image', image: shot }, { type: 'text', text: 'Where is Save?' }] }]));
    const r = await kestrel(['model', 'logits', modelDir, '--messages', file, '--json', '--device', 'cpu']);
    expect(withoutLoadProgress(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { prompt: string; input_ids: number[]; logits: number[] };
    expect(out.prompt).toContain('<|media_start|>image<|media_content|><|media_pad|><|media_end|>Where is Save?');
    expect(out.input_ids.filter((id) => id === MEDIA_PAD_TOKEN_ID)).toHaveLength(6); // 60×30 → grid 4×6 → 6 tokens
    const embeddings = referenceImageEmbeddings(ckpt.dir, config, out.input_ids, await processImages([shot]));
    expect(maxAbsDiff(out.logits, reference().forward(out.input_ids, embeddings))).toBeLessThan(1e-4);
  });

  test('a folder that was not imported is a clear error', async () => {
    const r = await kestrel(['model', 'logits', ckpt.dir, '--messages', join(work.dir, 'plain.json'), '--device', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/kestrel-model\.json .* not found: .*kestrel-model\.json/);
  });
});

describe('kestrel model chat', () => {
  test('greedy output is the reference model greedy continuation, with timings on stderr', async () => {
    const r = await kestrel(['model', 'chat', modelDir, 'Rename the folder todo_list_Jan_1', '--max-tokens', '16', '--device', 'cpu']);
    expect(r.code).toBe(0);
    const ref = reference();
    const prompt = tokenizer.encode(ChatTemplate.fromDir(ckpt.dir).render([{ role: 'user', content: 'Rename the folder todo_list_Jan_1' }]));
    const tokens: number[] = [];
    let logits = ref.forward(prompt);
    const ends = new Set([tokenizer.tokenId('<|im_end|>'), tokenizer.tokenId('[EOS]')]);
    while (tokens.length < 16 && !ends.has(argmax(logits))) {
      tokens.push(argmax(logits));
      logits = ref.forward([tokens.at(-1)!]);
    }
    expect(r.stdout).toBe(`${tokenizer.decode(tokens, { skipSpecialTokens: true })}\n`);
    expect(withoutLoadProgress(r.stderr)).toMatch(new RegExp(`^${tokens.length} tokens, finish: (length|stop); prompt ${prompt.length} tokens at [\\d.]+ tok/s, decode [\\d.]+ tok/s, first token \\d+ ms\\n$`));
  });

  test('an fp16 import chats too', async () => {
    const dir = join(work.dir, 'kimi-fp16');
    expect((await kestrel(['model', 'import', ckpt.dir, '--out', dir, '--precision', 'fp16', '--device', 'cpu'])).code).toBe(0);
    const r = await kestrel(['model', 'chat', dir, 'Hello', '--max-tokens', '4', '--temperature', '0.8', '--seed', '3', '--device', 'cpu']);
    expect(r.code).toBe(0);
    expect(withoutLoadProgress(r.stderr)).toMatch(/^[0-4] tokens, finish:/);
  });

  test('an int4 import (MatMulNBits, QMoE, GatherBlockQuantized) chats too, from a sixth of the weights', async () => {
    const dir = join(work.dir, 'kimi-int4');
    const imported = await kestrel(['model', 'import', ckpt.dir, '--out', dir, '--precision', 'int4', '--device', 'cpu']);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('(int4, 3 layers');
    const manifest = readJsonFile(join(dir, 'kestrel-model.json'), 'manifest') as ModelManifest;
    expect(manifest.precision).toBe('int4');
    const fp32 = readJsonFile(join(modelDir, 'kestrel-model.json'), 'manifest') as ModelManifest;
    expect(manifest.text.weights.bytes / fp32.text.weights.bytes).toBeLessThan(0.2);
    const r = await kestrel(['model', 'chat', dir, 'Hello', '--max-tokens', '4', '--temperature', '0.8', '--seed', '3', '--device', 'cpu']);
    expect(r.code).toBe(0);
    expect(withoutLoadProgress(r.stderr)).toMatch(/^[0-4] tokens, finish:/);
  });

  test('--image: greedy output is the reference continuation of the prompt with the image features', async () => {
    const shot = join(work.dir, 'chat-shot.png');
    writeFileSync(shot, encodePng({ width: 40, height: 40, colour: 'rgb', samples: noise(40 * 40 * 3, 8) }));
    const r = await kestrel(['model', 'chat', modelDir, 'Describe it', '--image', shot, '--max-tokens', '8', '--device', 'cpu']);
    expect(r.code).toBe(0);
    const rendered = ChatTemplate.fromDir(ckpt.dir).render([{ role: 'user', content: [{ type: 'image', image: '' }, { type: 'text', text: 'Describe it' }] }]);
    const images = await processImages([shot]);
    const prompt = expandMediaPads(tokenizer.encode(rendered), images.tokenCounts).ids;
    const ref = reference();
    const tokens: number[] = [];
    let logits = ref.forward(prompt, referenceImageEmbeddings(ckpt.dir, config, prompt, images));
    const ends = new Set([tokenizer.tokenId('<|im_end|>'), tokenizer.tokenId('[EOS]')]);
    while (tokens.length < 8 && !ends.has(argmax(logits))) {
      tokens.push(argmax(logits));
      logits = ref.forward([tokens.at(-1)!]);
    }
    expect(r.stdout).toBe(`${tokenizer.decode(tokens, { skipSpecialTokens: true })}\n`);
    expect(withoutLoadProgress(r.stderr)).toMatch(new RegExp(`^${tokens.length} tokens, finish: (length|stop); prompt ${prompt.length} tokens`));
  });
});
