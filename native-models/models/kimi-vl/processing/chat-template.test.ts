import { describe, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../../../test/harness/tiny-checkpoint.ts';
import { ChatTemplate, findChatTemplate } from './chat-template.ts';
import { KIMI_CHAT_TEMPLATE, VOCAB_SIZE } from '../testing/tiny-checkpoint.ts';
import { KimiTokenizer } from './tokenization.ts';
import { trainTinyBpe } from '../testing/tiny-bpe.ts';

const template = new ChatTemplate(KIMI_CHAT_TEMPLATE);

describe('ChatTemplate (Kimi-VL)', () => {
  test('image then text, default system prompt, generation prompt', () => {
    const prompt = template.render([
      { role: 'user', content: [{ type: 'image', image: '/tmp/a.png' }, { type: 'text', text: 'What is this?' }] },
    ]);
    expect(prompt).toBe(
      '<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|><|media_start|>image<|media_content|><|media_pad|><|media_end|>What is this?<|im_end|><|im_assistant|>assistant<|im_middle|>',
    );
  });

  test('an image_url part (OpenAI style) is an image too', () => {
    const prompt = template.render([{ role: 'user', content: [{ type: 'text', text: 'A' }, { type: 'image_url', image_url: 'data:image/png;base64,AAAA' }] }]);
    expect(prompt).toContain('<|im_middle|>A<|media_start|>image<|media_content|><|media_pad|><|media_end|><|im_end|>');
  });

  test('an explicit system message replaces the default; string content is verbatim', () => {
    const prompt = template.render(
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi\nthere' },
        { role: 'assistant', content: 'Hello.' },
      ],
      { addGenerationPrompt: false },
    );
    expect(prompt).toBe('<|im_system|>system<|im_middle|>Be brief.<|im_end|><|im_user|>user<|im_middle|>Hi\nthere<|im_end|><|im_assistant|>assistant<|im_middle|>Hello.<|im_end|>');
  });

  test('the rendered prompt tokenizes to the special ids around plain text', () => {
    const tok = new KimiTokenizer({ ranks: trainTinyBpe(400), config: {}, vocabSize: VOCAB_SIZE });
    const ids = tok.encode(template.render([{ role: 'user', content: [{ type: 'image', image: 'x.png' }, { type: 'text', text: 'Hi' }] }]));
    const specials = ids.filter((id) => tok.isSpecial(id));
    expect(specials).toEqual([163594, 163601, 163586, 163587, 163601, 163602, 163603, 163605, 163604, 163586, 163588, 163601]);
    expect(ids.at(-1)).toBe(163601);
    expect(tok.decode(ids)).toContain('user<|im_middle|><|media_start|>image');
  });

  test('chat_template.jinja (the published Kimi-VL layout) wins over tokenizer_config.json; a folder with none is a clear error', () => {
    const t = tempDir('template');
    writeFileSync(join(t.dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: 'from-config' }));
    expect(findChatTemplate(t.dir)).toBe('from-config');
    writeFileSync(join(t.dir, 'chat_template.jinja'), 'from-jinja');
    expect(findChatTemplate(t.dir)).toBe('from-jinja');
    writeFileSync(join(t.dir, 'tokenizer_config.json'), JSON.stringify({}));
    t.cleanup();
    expect(() => findChatTemplate(t.dir)).toThrow(/not found/);
  });

  test('a broken template is a clear error', () => {
    expect(() => new ChatTemplate('{% for x in %}')).toThrow(/the chat template does not parse/);
  });
});
