/**
 * Renders the checkpoint's own chat template (Jinja) so the prompt is exactly what the model
 * was trained on. The template is looked up where Hugging Face keeps it: `chat_template.jinja`,
 * `chat_template.json`, or the `chat_template` field of `tokenizer_config.json`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { CheckpointError } from '../../../checkpoint/errors.ts';
import { readJsonFile } from '../../../checkpoint/hf-checkpoint.ts';
import { TOKENIZER_CONFIG_FILE } from './tokenization.ts';

export type TemplatePart = { readonly type: 'text'; readonly text: string } | { readonly type: 'image'; readonly image: string } | { readonly type: 'image_url'; readonly image_url: string };

export interface TemplateMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string | readonly TemplatePart[];
}

type TemplateField = string | { name: string; template: string }[] | undefined;

function pickTemplate(field: TemplateField, where: string): string | undefined {
  if (field === undefined || field === null) return undefined;
  if (typeof field === 'string') return field;
  if (Array.isArray(field)) {
    const t = field.find((x) => x.name === 'default') ?? field[0];
    if (t && typeof t.template === 'string') return t.template;
  }
  throw new CheckpointError(`${where}: chat_template must be a string or a list of {name, template}`);
}

export function findChatTemplate(dir: string): string {
  const jinja = join(dir, 'chat_template.jinja');
  if (existsSync(jinja)) return readFileSync(jinja, 'utf8');
  const json = join(dir, 'chat_template.json');
  if (existsSync(json)) {
    const t = pickTemplate((readJsonFile(json, 'chat_template.json') as { chat_template?: TemplateField }).chat_template, 'chat_template.json');
    if (t) return t;
  }
  const config = readJsonFile(join(dir, TOKENIZER_CONFIG_FILE), TOKENIZER_CONFIG_FILE) as { chat_template?: TemplateField };
  const t = pickTemplate(config.chat_template, TOKENIZER_CONFIG_FILE);
  if (!t) throw new CheckpointError(`no chat template in ${dir} (looked for chat_template.jinja, chat_template.json and tokenizer_config.json's chat_template)`);
  return t;
}

export class ChatTemplate {
  private readonly template: Template;

  constructor(source: string) {
    try {
      this.template = new Template(source);
    } catch (err) {
      throw new CheckpointError(`the chat template does not parse: ${(err as Error).message}`);
    }
  }

  static fromDir(dir: string): ChatTemplate {
    return new ChatTemplate(findChatTemplate(dir));
  }

  render(messages: readonly TemplateMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    return this.template.render({
      messages: messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : m.content.map((p) => ({ ...p })) })),
      add_generation_prompt: opts.addGenerationPrompt ?? true,
    });
  }
}
