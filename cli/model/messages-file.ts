/**
 * Reads a chat from a JSON file in the usual form: `[{"role": "user", "content": "..."}]`,
 * content either a string or a list of `{"type": "text", "text": ...}` and
 * `{"type": "image", "image": "/path.png"}` parts. A file that cannot be used is a usage error (exit 2),
 * like a bad flag or image.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LocalChatMessage, LocalContentPart } from '../../native-models/models/kimi-vl/local-model.ts';
import { CliError } from '../errors.ts';
import { checkImage } from '../ground/read-image.ts';

const ROLES = new Set(['system', 'user', 'assistant']);

export function parseMessages(raw: unknown, where: string): LocalChatMessage[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new CliError(`${where}: expected a non-empty JSON array of messages like [{"role": "user", "content": "Hi"}]`, 2);
  return raw.map((m: unknown, i): LocalChatMessage => {
    const at = `${where}: message ${i + 1}`;
    if (!m || typeof m !== 'object') throw new CliError(`${at} is not an object`, 2);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || !ROLES.has(role)) throw new CliError(`${at} has role ${JSON.stringify(role)}; use "system", "user" or "assistant"`, 2);
    if (typeof content === 'string') return { role: role as LocalChatMessage['role'], content };
    if (!Array.isArray(content)) throw new CliError(`${at}: content must be a string or a list of parts`, 2);
    const parts = content.map((p: unknown, j): LocalContentPart => {
      const part = p as { type?: unknown; text?: unknown; image?: unknown; image_url?: unknown };
      if (part?.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text };
      if (part?.type === 'image' || part?.type === 'image_url') return { type: 'image', image: imageSource(part.image ?? part.image_url, `${at}, part ${j + 1}`) };
      throw new CliError(`${at}, part ${j + 1}: expected {"type": "text", "text": "..."} or {"type": "image", "image": "/path.png"}`, 2);
    });
    return { role: role as LocalChatMessage['role'], content: parts };
  });
}

/** A path, a file:// URL or a base64 data URL, bare or as OpenAI's `{"url": ...}`. */
function imageSource(value: unknown, at: string): string | { readonly data: Uint8Array } {
  const url = typeof value === 'object' && value !== null ? (value as { url?: unknown }).url : value;
  if (typeof url !== 'string' || url === '') throw new CliError(`${at}: an image part needs "image": "/path.png" (a path, file:// URL or data URL)`, 2);
  const data = /^data:image\/[\w.+-]+;base64,(.*)$/s.exec(url);
  if (data) return { data: new Uint8Array(Buffer.from(data[1]!, 'base64')) };
  return url.startsWith('file://') ? fileURLToPath(url) : url;
}

export function readMessagesFile(path: string): LocalChatMessage[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read messages file ${path}: ${(err as Error).message}`, 2);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`, 2);
  }
  return parseMessages(raw, path);
}

/** The messages with every image named by path read (and checked) now, before a model loads. */
export async function withImagesRead(messages: readonly LocalChatMessage[]): Promise<LocalChatMessage[]> {
  const out: LocalChatMessage[] = [];
  for (const message of messages) {
    if (typeof message.content === 'string') {
      out.push(message);
      continue;
    }
    const parts: LocalContentPart[] = [];
    for (const part of message.content) {
      parts.push(part.type === 'image' && typeof part.image === 'string' ? { type: 'image', image: { data: (await checkImage(part.image)).bytes } } : part);
    }
    out.push({ ...message, content: parts });
  }
  return out;
}
