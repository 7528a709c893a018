/**
 * Kimi's tokenizer: tiktoken-style byte-level BPE from the checkpoint's `tiktoken.model`
 * (`<base64 token bytes> <rank>` per line, rank = id), the model's pre-tokenizer pattern, and
 * the special tokens from `tokenizer_config.json` at their real ids (163584…163839; never
 * renumbered). BPE merging is done by js-tiktoken with these custom ranks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tiktoken } from 'js-tiktoken/lite';
import { CheckpointError } from '../../../checkpoint/errors.ts';
import { readJsonFile } from '../../../checkpoint/hf-checkpoint.ts';
import { KestrelError } from '../../../../shared/errors.ts';

/**
 * Kimi's pat_str rewritten for JavaScript's `u` flag: the Rust-regex class intersections
 * `[…&&[^\p{Han}]]` become a negative lookahead per character, and the case-insensitive
 * contraction group is spelled out.
 */
const NOT_HAN = '(?!\\p{Script=Han})';
const UPPERISH = `(?:${NOT_HAN}[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}])`;
const LOWERISH = `(?:${NOT_HAN}[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}])`;
const CONTRACTION = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
export const KIMI_PATTERN = [
  '\\p{Script=Han}+',
  `[^\\r\\n\\p{L}\\p{N}]?${UPPERISH}*${LOWERISH}+${CONTRACTION}?`,
  `[^\\r\\n\\p{L}\\p{N}]?${UPPERISH}+${LOWERISH}*${CONTRACTION}?`,
  '\\p{N}{1,3}',
  ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*',
  '\\s*[\\r\\n]+',
  '\\s+(?!\\S)',
  '\\s+',
].join('|');

export const TIKTOKEN_FILE = 'tiktoken.model';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/**
 * Named special tokens at their upstream ids (names used when tokenizer_config.json has no entry
 * for a slot); the other slots up to the vocabulary end are reserved.
 */
export const KIMI_SPECIAL_TOKENS: Readonly<Record<string, number>> = {
  '[BOS]': 163584,
  '[EOS]': 163585,
  '<|im_end|>': 163586,
  '<|im_user|>': 163587,
  '<|im_assistant|>': 163588,
  '<|start_header_id|>': 163590,
  '<|end_header_id|>': 163591,
  '[EOT]': 163593,
  '<|im_system|>': 163594,
  '<|im_middle|>': 163601,
  '<|media_start|>': 163602,
  '<|media_content|>': 163603,
  '<|media_end|>': 163604,
  '<|media_pad|>': 163605,
  '[UNK]': 163838,
  '[PAD]': 163839,
};

/**
 * The ids the runtime depends on (stop tokens, chat roles, image placeholder), confirmed in
 * published configs: a tokenizer_config.json that names them differently is refused rather than
 * silently misread. Other slots take whatever name the checkpoint gives them.
 */
export const REQUIRED_SPECIAL_TOKENS = ['[BOS]', '[EOS]', '<|im_end|>', '<|im_user|>', '<|im_assistant|>', '<|im_system|>', '<|im_middle|>', '<|media_pad|>', '[PAD]'] as const;

export function reservedTokenName(id: number): string {
  return `<|reserved_token_${id}|>`;
}

export interface TokenizerFiles {
  /** Contents of tiktoken.model. */
  readonly ranks: string;
  /** Parsed tokenizer_config.json. */
  readonly config: { added_tokens_decoder?: Record<string, { content: string; special?: boolean }> };
  /** Total vocabulary (config.json vocab_size); special tokens fill the slots after the BPE ranks. */
  readonly vocabSize: number;
}

export class TokenizerInputError extends KestrelError {
  override readonly name = 'TokenizerInputError';
}

export class KimiTokenizer {
  private readonly bpe: Tiktoken;
  private readonly idToBytes: (Uint8Array | undefined)[];
  readonly specialIds = new Map<string, number>();
  readonly specialTokens = new Map<number, string>();
  /** Number of BPE (non-special) tokens. */
  readonly baseVocab: number;

  constructor(files: TokenizerFiles) {
    const lines = files.ranks.split('\n');
    const b64: string[] = [];
    this.idToBytes = [];
    for (const [n, line] of lines.entries()) {
      if (!line.trim()) continue;
      const [token, rankText] = line.split(' ');
      const rank = Number(rankText);
      if (!token || !Number.isInteger(rank) || rank < 0) {
        throw new CheckpointError(`${TIKTOKEN_FILE} line ${n + 1}: expected '<base64> <rank>', got '${line.slice(0, 60)}'`);
      }
      b64[rank] = token;
      this.idToBytes[rank] = new Uint8Array(Buffer.from(token, 'base64'));
    }
    this.baseVocab = b64.length;
    const firstSpecial = this.baseVocab;
    // Every slot from the end of the ranks to the start of the special block stays unused (a
    // small test vocabulary keeps the real special ids); the real file fills it completely.
    const specialStart = Math.min(...Object.values(KIMI_SPECIAL_TOKENS));
    if (firstSpecial > specialStart) {
      throw new CheckpointError(`${TIKTOKEN_FILE} has ${firstSpecial} ranks, overlapping the special tokens that start at ${specialStart}`);
    }
    const decoder = files.config.added_tokens_decoder ?? {};
    const upstream = new Map(Object.entries(KIMI_SPECIAL_TOKENS).map(([name, id]) => [id, name]));
    for (let id = specialStart; id < files.vocabSize; id++) {
      const name = decoder[String(id)]?.content ?? upstream.get(id) ?? reservedTokenName(id);
      this.specialIds.set(name, id);
      this.specialTokens.set(id, name);
    }
    for (const name of REQUIRED_SPECIAL_TOKENS) {
      const id = KIMI_SPECIAL_TOKENS[name]!;
      if (id < files.vocabSize && this.specialTokens.get(id) !== name) {
        throw new CheckpointError(`${TOKENIZER_CONFIG_FILE}: id ${id} is '${this.specialTokens.get(id)}', expected '${name}'; special tokens must keep their upstream ids`);
      }
    }
    const rankLines: string[] = [];
    for (let id = 0; id < b64.length; id++) if (b64[id]) rankLines.push(`t ${id} ${b64[id]}`);
    this.bpe = new Tiktoken({ pat_str: KIMI_PATTERN, special_tokens: Object.fromEntries(this.specialIds), bpe_ranks: rankLines.join('\n') });
  }

  static fromDir(dir: string, vocabSize: number): KimiTokenizer {
    const ranksPath = join(dir, TIKTOKEN_FILE);
    if (!existsSync(ranksPath)) throw new CheckpointError(`${TIKTOKEN_FILE} not found in ${dir}; copy it from the Hugging Face checkpoint`);
    const config = readJsonFile(join(dir, TOKENIZER_CONFIG_FILE), TOKENIZER_CONFIG_FILE) as TokenizerFiles['config'];
    return new KimiTokenizer({ ranks: readFileSync(ranksPath, 'utf8'), config, vocabSize });
  }

  tokenId(name: string): number {
    const id = this.specialIds.get(name);
    if (id === undefined) throw new Error(`unknown special token ${name}`);
    return id;
  }

  /** Special-token strings in the text map straight to their ids (as the chat template relies on). */
  encode(text: string): number[] {
    return this.bpe.encode(text, 'all');
  }

  /** Untrusted text: a special-token string in it is spelled out as ordinary text, never a control token. */
  encodeText(text: string): number[] {
    return this.bpe.encode(text, [], []);
  }

  /**
   * A rendered prompt whose `untrusted` substrings (message texts, in order) are encoded with
   * `encodeText` and the template's own text around them with `encode`, so a message cannot
   * forge chat structure (`<|im_end|>`, `<|media_pad|>`, …). Adjacent substrings are one piece,
   * so BPE sees the same text it would have seen in one string.
   */
  encodePrompt(prompt: string, untrusted: readonly string[]): number[] {
    const ranges: [number, number][] = [];
    let cursor = 0;
    for (const text of untrusted) {
      if (text === '') continue;
      const at = prompt.indexOf(text, cursor);
      if (at < 0) {
        if ([...this.specialIds.keys()].some((name) => text.includes(name))) {
          throw new TokenizerInputError('a message holds a special-token string that the chat template changed; remove it from the message');
        }
        continue;
      }
      const last = ranges[ranges.length - 1];
      if (last && last[1] === at) last[1] = at + text.length;
      else ranges.push([at, at + text.length]);
      cursor = at + text.length;
    }
    // Pieces are joined with concat: spreading a long prompt's ids into push() overflows the stack.
    let ids: number[] = [];
    let from = 0;
    for (const [start, end] of ranges) {
      ids = ids.concat(this.encode(prompt.slice(from, start)), this.encodeText(prompt.slice(start, end)));
      from = end;
    }
    return ids.concat(this.encode(prompt.slice(from)));
  }

  /** The bytes a token stands for (special tokens: their name in UTF-8). */
  tokenBytes(id: number): Uint8Array {
    const bytes = this.idToBytes[id];
    if (bytes) return bytes;
    const special = this.specialTokens.get(id);
    if (special !== undefined) return new TextEncoder().encode(special);
    return new Uint8Array(0);
  }

  isSpecial(id: number): boolean {
    return this.specialTokens.has(id);
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    const decoder = new StreamingDecoder(this, opts);
    return ids.map((id) => decoder.push(id)).join('') + decoder.flush();
  }
}

/** Turns tokens into text as they arrive without ever emitting half of a UTF-8 character. */
export class StreamingDecoder {
  private readonly utf8 = new TextDecoder('utf-8');

  constructor(
    private readonly tokenizer: KimiTokenizer,
    private readonly opts: { skipSpecialTokens?: boolean } = {},
  ) {}

  push(id: number): string {
    if (this.opts.skipSpecialTokens && this.tokenizer.isSpecial(id)) return '';
    return this.utf8.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** Whatever incomplete bytes remain, as U+FFFD. */
  flush(): string {
    return this.utf8.decode();
  }
}
