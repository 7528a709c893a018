/**
 * int4 against fp32 on a random Kimi-VL checkpoint: imports it as fp32, as int4 (MatMulNBits at
 * accuracy level 4, int8 activations: the default) and as int4 at accuracy level 0 (fp32
 * activations), then prints the text weights file sizes, the logit drift per prompt (max
 * |Δlogit|, relative to the largest logit, top-1 agreement) of each int4 import against fp32
 * and of level 4 against level 0 (the drift int8 activations add), and prefill times.
 * Run: npx tsx scripts/int4-drift.ts [--mid] [--keep DIR]
 *   (default: the tiny test checkpoint; --mid: hidden 1024, 2 layers, 32 experts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatTemplate } from '../native-models/models/kimi-vl/processing/chat-template.ts';
import { importKimiVL } from '../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { TextSession } from '../native-models/models/kimi-vl/runtime/text-session.ts';
import { VOCAB_SIZE, writeTinyCheckpoint } from '../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import { KimiTokenizer } from '../native-models/models/kimi-vl/processing/tokenization.ts';
import { formatDrift, measureLogitDrift } from '../native-models/quantization/logit-drift.ts';

const { values: args } = parseArgs({ options: { mid: { type: 'boolean', default: false }, keep: { type: 'string' } } });
const mid = { hidden_size: 1024, intermediate_size: 2816, moe_intermediate_size: 512, num_hidden_layers: 2, num_attention_heads: 8, n_routed_experts: 32, n_shared_experts: 2, num_experts_per_tok: 6, kv_lora_rank: 256, qk_nope_head_dim: 64, qk_rope_head_dim: 32, v_head_dim: 64 };
const work = args.keep ? resolve(args.keep) : mkdtempSync(join(tmpdir(), 'kestrel-int4-drift-'));
const PROMPTS = ['Click the Save button, then type 你好 🙂 and press Enter.', 'Open the terminal.', 'Where is the search box on this page?', 'Scroll down to the bottom and click "Accept all cookies".', 'Close the dialog without saving.', 'Select the third row of the table and copy it.'];

try {
  const ckptDir = join(work, 'checkpoint');
  writeTinyCheckpoint(ckptDir, { dtype: 'fp32', seed: 3, ...(args.mid ? { text: mid } : {}) });
  const variants = { fp32: { precision: 'fp32' }, int4: { precision: 'int4' }, 'int4 level 0': { precision: 'int4', int4AccuracyLevel: 0 } } as const;
  const sessions: Record<string, TextSession> = {};
  for (const [name, options] of Object.entries(variants)) {
    const dir = join(work, name.replace(/\W+/g, '-'));
    rmSync(dir, { recursive: true, force: true });
    const t0 = performance.now();
    await importKimiVL({ source: ckptDir, out: dir, ...options });
    console.log(`${name}: imported in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    sessions[name] = await TextSession.open(dir);
  }
  const { fp32, int4, 'int4 level 0': level0 } = sessions as Record<keyof typeof variants, TextSession>;
  const bytes = (s: TextSession) => s.manifest.text.weights.bytes;
  console.log(`model: ${args.mid ? 'mid-size (hidden 1024, 2 layers, 32 experts)' : 'tiny test checkpoint (hidden 64, 3 layers, 8 experts)'}`);
  console.log(`text weights: fp32 ${(bytes(fp32) / 1e6).toFixed(1)} MB, int4 ${(bytes(int4) / 1e6).toFixed(1)} MB, int4/fp32 = ${(bytes(int4) / bytes(fp32)).toFixed(3)}`);
  const tok = KimiTokenizer.fromDir(ckptDir, VOCAB_SIZE);
  const template = ChatTemplate.fromDir(ckptDir);
  const prompts = PROMPTS.map((content) => tok.encode(template.render([{ role: 'user', content }])));
  console.log(`int4 (accuracy level 4) vs fp32 logit drift:\n${formatDrift(await measureLogitDrift(fp32, int4, prompts))}`);
  console.log(`int4 at accuracy level 0 vs fp32:\n${formatDrift(await measureLogitDrift(fp32, level0, prompts))}`);
  console.log(`int4 level 4 vs level 0 (what int8 activations add):\n${formatDrift(await measureLogitDrift(level0, int4, prompts))}`);
  const timed = async (s: TextSession) => {
    const t0 = performance.now();
    for (const p of prompts) await s.forward(p);
    return (performance.now() - t0) / prompts.length;
  };
  const [a, b, c] = [await timed(fp32), await timed(int4), await timed(level0)];
  console.log(`prefill per prompt: fp32 ${a.toFixed(1)} ms, int4 ${b.toFixed(1)} ms (level 0: ${c.toFixed(1)} ms), int4/fp32 = ${(b / a).toFixed(2)}`);
  await level0.release();
  await fp32.release();
  await int4.release();
} finally {
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
