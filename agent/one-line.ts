/**
 * The start of an untrusted text (a model's reply, a server's body) as it may appear inside a
 * one-line message: runs of white space become one space, control characters are escaped (no
 * line breaks or terminal sequences get through), and it stops after `max` characters without
 * reading further.
 */
const RUN = /(\s+)|[^\s\x00-\x1f\x7f-\x9f]+|[^]/y;

export function preview(text: string, max = 80): string {
  let out = '';
  RUN.lastIndex = 0;
  for (let m = RUN.exec(text); m && out.length <= max; m = RUN.exec(text)) {
    if (m[1] !== undefined) out += out === '' || RUN.lastIndex === text.length ? '' : ' ';
    else out += m[0].length === 1 && /[\x00-\x1f\x7f-\x9f]/.test(m[0]) ? `\\x${m[0].charCodeAt(0).toString(16).padStart(2, '0')}` : m[0];
  }
  return out.length > max ? `${out.slice(0, max)}…` : out;
}
