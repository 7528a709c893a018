/**
 * Writes a small random Kimi-VL checkpoint in the exact Hugging Face layout: config.json with
 * the real schema, every tensor under its real name (in one file or sharded with an index),
 * the real vocabulary size and special-token ids, a small learned BPE ranks file, the
 * tokenizer config with a chat template, and preprocessor_config.json. Deterministic: the same
 * options give the same bytes. Used by tests and the benchmark; the import code cannot tell it
 * from a downloaded checkpoint.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors, type TensorToWrite } from '../../../checkpoint/safetensors-writer.ts';
import { SeededRandom } from '../../../numeric/random.ts';
import { parseKimiVLConfig } from '../configuration.ts';
import { allTensorShapes, rotaryBufferNames } from '../graphs/tensor-names.ts';
import { KIMI_SPECIAL_TOKENS, reservedTokenName } from '../processing/tokenization.ts';
import { trainTinyBpe } from './tiny-bpe.ts';

/** Kimi-VL's chat format (docs/kimi-vl.md#chat-template), written as a Jinja template. */
export const KIMI_CHAT_TEMPLATE = [
  "{%- if messages | length == 0 or messages[0]['role'] != 'system' -%}",
  '<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|>',
  '{%- endif -%}',
  '{%- for message in messages -%}',
  "<|im_{{ message['role'] }}|>{{ message['role'] }}<|im_middle|>",
  "{%- if message['content'] is string -%}",
  "{{ message['content'] }}",
  '{%- else -%}',
  "{%- for part in message['content'] -%}",
  "{%- if part['type'] == 'image' or 'image' in part or 'image_url' in part -%}",
  '<|media_start|>image<|media_content|><|media_pad|><|media_end|>',
  '{%- else -%}',
  "{{ part['text'] }}",
  '{%- endif -%}',
  '{%- endfor -%}',
  '{%- endif -%}',
  '<|im_end|>',
  '{%- endfor -%}',
  '{%- if add_generation_prompt -%}',
  '<|im_assistant|>assistant<|im_middle|>',
  '{%- endif -%}',
].join('\n');

export interface TinyCheckpointOptions {
  readonly dtype?: 'bf16' | 'fp16' | 'fp32';
  readonly seed?: number;
  /** Number of .safetensors shards; more than one writes model.safetensors.index.json. */
  readonly shards?: number;
  readonly bpeMerges?: number;
  /** Overrides merged into text_config (the benchmark uses a mid-size model). */
  readonly text?: Record<string, unknown>;
  readonly vision?: Record<string, unknown>;
  /** Every odd lm_head row a copy of the even row before it, so each logit ties with its neighbour (tests of tie-breaking). */
  readonly tiedHeadPairs?: boolean;
}

export const VOCAB_SIZE = 163840;
const FIRST_SPECIAL = 163584;

export function tinyConfigJson(opts: TinyCheckpointOptions = {}): Record<string, unknown> {
  return {
    architectures: ['KimiVLForConditionalGeneration'],
    model_type: 'kimi_vl',
    media_placeholder_token_id: 163605,
    ignore_index: -100,
    vocab_size: VOCAB_SIZE,
    tie_word_embeddings: false,
    torch_dtype: { fp32: 'float32', fp16: 'float16', bf16: 'bfloat16' }[opts.dtype ?? 'bf16'],
    transformers_version: '4.50.3',
    vision_config: {
      model_type: 'moonvit',
      patch_size: 14,
      hidden_size: 32,
      num_attention_heads: 2,
      num_hidden_layers: 2,
      intermediate_size: 48,
      init_pos_emb_height: 8,
      init_pos_emb_width: 8,
      merge_kernel_size: [2, 2],
      torch_dtype: 'bfloat16',
      ...opts.vision,
    },
    text_config: {
      vocab_size: VOCAB_SIZE,
      max_position_embeddings: 131072,
      hidden_size: 64,
      intermediate_size: 96,
      moe_intermediate_size: 32,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      num_key_value_heads: 4,
      n_routed_experts: 8,
      n_shared_experts: 2,
      num_experts_per_tok: 3,
      first_k_dense_replace: 1,
      moe_layer_freq: 1,
      ep_size: 1,
      kv_lora_rank: 32,
      q_lora_rank: null,
      qk_nope_head_dim: 16,
      qk_rope_head_dim: 8,
      v_head_dim: 16,
      topk_method: 'noaux_tc',
      scoring_func: 'sigmoid',
      n_group: 1,
      topk_group: 1,
      norm_topk_prob: true,
      routed_scaling_factor: 2.446,
      aux_loss_alpha: 0.001,
      seq_aux: true,
      rope_theta: 800000.0,
      rope_scaling: null,
      rms_norm_eps: 1e-5,
      hidden_act: 'silu',
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 163584,
      eos_token_id: 163585,
      pad_token_id: 163839,
      tie_word_embeddings: false,
      initializer_range: 0.02,
      pretraining_tp: 1,
      use_cache: true,
      ...opts.text,
    },
  };
}

function tokenizerConfigJson(): Record<string, unknown> {
  const named = new Map(Object.entries(KIMI_SPECIAL_TOKENS).map(([name, id]) => [id, name]));
  const added: Record<string, unknown> = {};
  for (let id = FIRST_SPECIAL; id < VOCAB_SIZE; id++) {
    added[String(id)] = { content: named.get(id) ?? reservedTokenName(id), lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  }
  return {
    added_tokens_decoder: added,
    additional_special_tokens: ['<|im_end|>', '<|im_user|>', '<|im_assistant|>', '<|im_system|>', '<|im_middle|>', '<|media_start|>', '<|media_content|>', '<|media_end|>', '<|media_pad|>'],
    bos_token: '[BOS]',
    eos_token: '[EOS]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    chat_template: KIMI_CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    model_max_length: 1048576,
    tokenizer_class: 'TikTokenTokenizer',
    auto_map: { AutoTokenizer: ['tokenization_moonshot.TikTokenTokenizer', null] },
  };
}

/** Random values with a scale suited to the tensor's role, seeded by its name. */
function tensorValues(name: string, shape: readonly number[], seed: number, baseVocab: number, tiedHeadPairs: boolean): () => Iterable<Float32Array> {
  return function* () {
    const rng = SeededRandom.fromString(name, seed);
    const rows = shape[0]!;
    const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
    const fanIn = shape.length >= 2 ? rowSize : 1;
    const isNorm = /norm\d?\.weight$|layernorm\.weight$|norm\.weight$/.test(name);
    const isBias = /\.bias$|e_score_correction_bias$/.test(name);
    const isHead = name === 'language_model.lm_head.weight';
    const scale = isBias ? 0.1 : name.endsWith('embed_tokens.weight') ? 1 : Math.sqrt(3 / fanIn);
    const perChunk = 2 * Math.max(1, Math.floor((1 << 19) / rowSize)); // even: a pair of rows stays in one chunk
    for (let r0 = 0; r0 < rows; r0 += perChunk) {
      const n = Math.min(perChunk, rows - r0);
      const out = new Float32Array(n * rowSize);
      for (let i = 0; i < out.length; i++) {
        const u = rng.next() * 2 - 1;
        out[i] = isNorm ? 1 + 0.1 * u : u * scale;
      }
      if (isHead) {
        // Ids between the small test vocabulary and the special block have no text; keep the
        // model from producing them so generated text stays decodable.
        for (let r = 0; r < n; r++) {
          const id = r0 + r;
          if (id >= baseVocab && id < FIRST_SPECIAL) out.fill(0, r * rowSize, (r + 1) * rowSize);
          // After the zeroing: a text row's pair ties with it even where the pair is past the text.
          if (tiedHeadPairs && id % 2 === 1) out.copyWithin(r * rowSize, (r - 1) * rowSize, r * rowSize);
        }
      }
      yield out;
    }
  };
}

export interface TinyCheckpoint {
  readonly dir: string;
  readonly tensorCount: number;
}

export function writeTinyCheckpoint(dir: string, opts: TinyCheckpointOptions = {}): TinyCheckpoint {
  mkdirSync(dir, { recursive: true });
  const seed = opts.seed ?? 1;
  const configJson = tinyConfigJson(opts);
  const config = parseKimiVLConfig(configJson);
  const ranks = trainTinyBpe(opts.bpeMerges ?? 400);
  const baseVocab = ranks.trimEnd().split('\n').length;
  const dtype = ({ fp32: 'F32', fp16: 'F16', bf16: 'BF16' } as const)[opts.dtype ?? 'bf16'];
  const tensors: TensorToWrite[] = [];
  for (const [name, shape] of allTensorShapes(config)) {
    tensors.push({ name, dtype, shape, values: tensorValues(name, shape, seed, baseVocab, opts.tiedHeadPairs ?? false) });
  }
  const half = config.text.qkRopeHeadDim / 2;
  for (const name of rotaryBufferNames(config.text)) {
    const invFreq = Float32Array.from({ length: half }, (_, j) => 1 / config.text.ropeTheta ** ((2 * j) / config.text.qkRopeHeadDim));
    tensors.push({ name, dtype: 'F32', shape: [half], values: () => [invFreq] });
  }
  const shards = Math.max(1, opts.shards ?? 1);
  if (shards === 1) {
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
  } else {
    const weightMap: Record<string, string> = {};
    const per = Math.ceil(tensors.length / shards);
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = tensors.slice(s * per, (s + 1) * per);
      for (const t of part) weightMap[t.name] = file;
      writeSafetensors(join(dir, file), part);
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configJson, null, 2));
  writeFileSync(join(dir, 'tiktoken.model'), ranks);
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfigJson(), null, 2));
  writeFileSync(
    join(dir, 'preprocessor_config.json'),
    JSON.stringify({ image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], in_token_limit: 4096, patch_size: 14, pad_input: true, num_pooled_tokens: 1024, image_processor_type: 'KimiVLImageProcessor' }, null, 2),
  );
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 163584, eos_token_id: 163585, do_sample: false }, null, 2));
  return { dir, tensorCount: tensors.length };
}
