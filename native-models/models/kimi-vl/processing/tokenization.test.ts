import { describe, expect, test } from 'vitest';
import { KIMI_PATTERN, KimiTokenizer, StreamingDecoder } from './tokenization.ts';
import { trainTinyBpe } from '../testing/tiny-bpe.ts';
import { VOCAB_SIZE } from '../testing/tiny-checkpoint.ts';

const ranks = trainTinyBpe(400);
const tok = new KimiTokenizer({ ranks, config: {}, vocabSize: VOCAB_SIZE });

describe('KIMI_PATTERN (pre-tokenizer)', () => {
  test.each([
    ["Hello world's 123456", ['Hello', " world's", ' ', '123', '456']],
    ['Hello你好世界OK', ['Hello', '你好世界', 'OK']],
    ['  x\n\n y', [' ', ' x', '\n\n', ' y']],
    ["DON'T stop", ["DON'T", ' stop']],
    ['a.b!!\n', ['a', '.b', '!!\n']],
  ])('%j', (text, pieces) => {
    expect([...text.matchAll(new RegExp(KIMI_PATTERN, 'gu'))].map((m) => m[0])).toEqual(pieces);
  });
});

describe('KimiTokenizer', () => {
  test('a prompt of 200k tokens encodes (a long message once overflowed the stack)', () => {
    const text = 'hello world '.repeat(100_000);
    const prompt = `<|im_user|>user<|im_middle|>${text}<|im_end|>`;
    const ids = tok.encodePrompt(prompt, [text]);
    expect(ids.length).toBeGreaterThan(200_000);
    const head = tok.encode('<|im_user|>user<|im_middle|>');
    expect(ids.slice(0, head.length)).toEqual(head);
    expect(ids.at(-1)).toBe(163586);
  });

  test('special tokens sit at their upstream ids, reserved slots fill the rest', () => {
    expect(tok.encode('<|im_end|>')).toEqual([163586]);
    expect(tok.encode('<|media_pad|>')).toEqual([163605]);
    expect(tok.encode('<|im_system|>system<|im_middle|>')[0]).toBe(163594);
    expect(tok.tokenId('[BOS]')).toBe(163584);
    expect(tok.tokenId('<|reserved_token_163589|>')).toBe(163589);
    expect(tok.specialIds.size).toBe(256);
  });

  test.each([
    'The quick brown fox jumps over the lazy dog.',
    '你好，世界！请点击保存按钮。',
    'Emoji 🙂🚀👍🏽 and a family 👨‍👩‍👧 — ok',
    'Text the corpus never saw: Zürich, Ελληνικά, русский, עברית, 한국어.',
    'tabs\tand\r\nnewlines\n\n  indented',
  ])('round-trips %j', (text) => {
    const ids = tok.encode(text);
    expect(ids.every((id) => id < tok.baseVocab)).toBe(true);
    expect(tok.decode(ids)).toBe(text);
  });

  test('learned merges make common words single tokens', () => {
    expect(tok.encode(' the').length).toBe(1);
    expect(tok.encode('the quick brown fox').length).toBeLessThan('the quick brown fox'.length / 2);
  });

  test('streaming decode never emits half a UTF-8 character', () => {
    const text = '🙂你好🚀é';
    const ids = tok.encode(text);
    // The emoji is split over several byte tokens, so a naive per-token decode would break it.
    expect(ids.some((id) => new TextDecoder().decode(tok.tokenBytes(id)).includes('\uFFFD'))).toBe(true);
    const dec = new StreamingDecoder(tok);
    const deltas = ids.map((id) => dec.push(id));
    expect(deltas.join('') + dec.flush()).toBe(text);
    for (const d of deltas) expect(d).not.toContain('\uFFFD');
  });

  test('skipSpecialTokens drops special ids but keeps think markers (plain text)', () => {
    const ids = tok.encode('◁think▷hm◁/think▷done<|im_end|>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('◁think▷hm◁/think▷done');
    expect(tok.decode(ids)).toBe('◁think▷hm◁/think▷done<|im_end|>');
  });

  test('a special token id that disagrees with the upstream layout is refused', () => {
    const config = { added_tokens_decoder: { '163586': { content: '<|im_start|>', special: true } } };
    expect(() => new KimiTokenizer({ ranks, config, vocabSize: VOCAB_SIZE })).toThrow(/id 163586 is '<\|im_start\|>', expected '<\|im_end\|>'/);
  });

  test('unconfirmed slots take the checkpoint\'s own names', () => {
    const config = { added_tokens_decoder: { '163602': { content: '<|media_begin|>', special: true } } };
    const t = new KimiTokenizer({ ranks, config, vocabSize: VOCAB_SIZE });
    expect(t.encode('<|media_begin|>')).toEqual([163602]);
    expect(t.tokenId('<|im_end|>')).toBe(163586);
  });

  test('a malformed ranks line is refused with its line number', () => {
    expect(() => new KimiTokenizer({ ranks: 'QQ== 0\nnot-a-rank-line\n', config: {}, vocabSize: VOCAB_SIZE })).toThrow(/tiktoken\.model line 2/);
  });

});
