// ESLint rule: a comment may cite a Markdown file only if the repository has it (and, with
// `#anchor`, a heading of that name), or by full URL. Facts the code relies on live in docs/;
// a comment pointing at notes outside the repository cannot be followed by whoever clones it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';

const ROOT = dirname(dirname(new URL(import.meta.url).pathname));
const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;
const CITATION = /(?<![\w/.-])((?:\.{1,2}\/)*(?:[\w.-]+\/)*[\w-]+\.md)(#[\w-]+)?/g;
/** A name followed by a section sign (§): a section of some document, which must be a .md file here. */
const SECTION = /([\w./-]+)\s*§/g;

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(file) {
  const out = new Set();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) out.add(heading[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-'));
  }
  return out;
}

function inRepo(path) {
  const rel = relative(ROOT, path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) && existsSync(path) && statSync(path).isFile();
}

/** The file a citation names: relative ones from the citing file, others from the repository root. */
function target(citation, fromFile) {
  if (citation.startsWith('./') || citation.startsWith('../')) return resolve(dirname(fromFile), citation);
  const rooted = resolve(ROOT, citation);
  return inRepo(rooted) ? rooted : resolve(dirname(fromFile), citation);
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'comments cite Markdown files inside the repository (or give a URL)' },
    schema: [],
  },
  create(context) {
    return {
      Program() {
        for (const comment of context.sourceCode.getAllComments()) {
          const text = comment.value.replace(URL_PATTERN, (url) => ' '.repeat(url.length));
          for (const m of text.matchAll(SECTION)) {
            if (!m[1].endsWith('.md')) context.report({ loc: comment.loc, message: `comment cites a section of ${m[1]}, which is not a file in this repository: cite docs/….md#anchor instead` });
          }
          for (const m of text.matchAll(CITATION)) {
            const file = target(m[1], context.filename);
            if (!inRepo(file)) {
              context.report({ loc: comment.loc, message: `comment cites ${m[1]}, which is not a file in this repository: put the facts in docs/ and cite that, or give a full URL` });
            } else if (m[2] && !anchors(file).has(m[2].slice(1))) {
              context.report({ loc: comment.loc, message: `comment cites ${m[1]}${m[2]}, but ${m[1]} has no heading with that anchor` });
            }
          }
        }
      },
    };
  },
};
