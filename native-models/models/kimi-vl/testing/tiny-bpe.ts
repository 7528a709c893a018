/**
 * Learns a small byte-level BPE vocabulary from a fixed multilingual text, written in the
 * `tiktoken.model` format. Test checkpoints use it in place of Kimi's 163,584-token file so
 * they stay small while keeping the real pre-tokenizer and the real special-token ids.
 */
import { KIMI_PATTERN } from '../processing/tokenization.ts';

export const TINY_BPE_CORPUS = [
  'The quick brown fox jumps over the lazy dog. Click the Save button in the top right corner.',
  "Kestrel is a desktop agent; it looks at the screen and decides what to do next. It's fast, isn't it?",
  'Open the file menu, then choose "Rename" and type the new name: todo_list_Jan_2.',
  '你好，世界！请点击屏幕右上角的保存按钮。这是一个测试句子，用来学习合并规则。',
  'こんにちは世界。日本語のテキストも少し入れておきます。',
  'Emoji: 🙂 🚀 👍🏽 — and symbols like ©, ±, €, →.',
  'def main():\n    print("hello world")\n    return 42\n',
  'Numbers 1234567890 and 3.14159, dates 2025-04-10, times 16:15 UTC.',
  '## Action:\nclick the button\n## Code:\npyautogui.click(x=0.204, y=0.149)',
].join('\n');

function key(bytes: readonly number[]): string {
  return bytes.join(',');
}

/** Returns tiktoken.model text: 256 single-byte tokens (ids 0..255) then `merges` learned tokens. */
export function trainTinyBpe(merges: number, corpus = TINY_BPE_CORPUS): string {
  const vocab: number[][] = Array.from({ length: 256 }, (_, b) => [b]);
  const known = new Set(vocab.map(key));
  const words: number[][] = [];
  for (const m of corpus.matchAll(new RegExp(KIMI_PATTERN, 'gu'))) {
    words.push([...new TextEncoder().encode(m[0])]);
  }
  for (let step = 0; step < merges; step++) {
    const counts = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.length; i++) {
        const k = `${w[i]} ${w[i + 1]}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [k, c] of counts) {
      const [a, b] = k.split(' ').map(Number) as [number, number];
      const bytes = key([...vocab[a]!, ...vocab[b]!]);
      if (known.has(bytes)) continue;
      if (c > bestCount || (c === bestCount && best !== undefined && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (!best) break;
    const [a, b] = best.split(' ').map(Number) as [number, number];
    const id = vocab.length;
    vocab.push([...vocab[a]!, ...vocab[b]!]);
    known.add(key(vocab[id]!));
    for (const w of words) {
      for (let i = 0; i + 1 < w.length; i++) {
        if (w[i] === a && w[i + 1] === b) w.splice(i, 2, id);
      }
    }
  }
  return vocab.map((bytes, id) => `${Buffer.from(bytes).toString('base64')} ${id}`).join('\n') + '\n';
}
