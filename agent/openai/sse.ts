/**
 * Reads a server-sent-events body and yields each event's `data` (lines joined with '\n').
 * Comments and other fields are skipped; a final event without a trailing blank line still counts.
 * Each character is looked at once, however the body is cut into chunks.
 */
export async function* readSseData(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const lineEnd = /\r\n|\r|\n/g;
  // The start of a line not yet ended, in pieces: joined once when its end arrives, so a long
  // line sent in many small chunks costs its length, not its length times the chunks.
  let partial: string[] = [];
  let pendingReturn = false;
  let data: string[] = [];
  const flushLine = function* (line: string): Generator<string> {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
  };
  for await (const chunk of body) {
    let text = decoder.decode(chunk, { stream: true });
    // A \r that ended the last chunk may be the first half of a \r\n.
    if (pendingReturn) {
      pendingReturn = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    let lineStart = 0;
    lineEnd.lastIndex = 0;
    for (let end = lineEnd.exec(text); end; end = lineEnd.exec(text)) {
      const line = partial.length > 0 ? partial.join('') + text.slice(lineStart, end.index) : text.slice(lineStart, end.index);
      partial = [];
      lineStart = lineEnd.lastIndex;
      if (end[0] === '\r' && lineStart === text.length) pendingReturn = true;
      yield* flushLine(line);
    }
    if (lineStart < text.length) partial.push(text.slice(lineStart));
  }
  partial.push(decoder.decode());
  for (const line of partial.join('').split(/\r\n|\r|\n/)) yield* flushLine(line);
  yield* flushLine('');
}
