import { ESLint } from 'eslint';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../harness/cli.ts';

// The lint step of `npm test` runs kestrel/comment-citations on every file; these probes show
// it trips on a citation the repository cannot follow and lets the ones it can through.
const eslint = new ESLint({ cwd: REPO_ROOT });

async function citations(code: string, filePath = 'native-models/models/kimi-vl/probe.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'kestrel/comment-citations').map((m) => m.message);
}

// The names of background notes kept outside the repository, spelled in parts so that this file
// itself cites none of them.
const DESIGN = ['DESIGN', 'md'].join('.');
const FACTS = ['KIMI', 'VL', 'FACTS'].join('-');

describe('comment citations', () => {
  test.each([
    [`// Op choices (see ${DESIGN}).\nexport const x = 1;\n`, `comment cites ${DESIGN}, which is not a file in this repository`],
    [`/** MoonViT (${FACTS}.md §3.1). */\nexport const x = 1;\n`, `comment cites ${FACTS}.md`],
    [`// ../shared/${FACTS}.md\nexport const x = 1;\n`, `comment cites ../shared/${FACTS}.md`],
    ['// docs/kimi-vl.md#no-such-heading\nexport const x = 1;\n', 'docs/kimi-vl.md has no heading with that anchor'],
    [`// Image features replace the pads (${FACTS} §3.3).\nexport const x = 1;\n`, `comment cites a section of ${FACTS}`],
  ])('refused: %s', async (code, message) => {
    const found = await citations(code);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(message);
  });

  test.each([
    '// docs/kimi-vl.md#vision-tower-moonvit and README.md#folders\nexport const x = 1;\n',
    '// ../../../docs/onnxruntime.md#mixture-of-experts\nexport const x = 1;\n',
    '// https://github.com/microsoft/onnxruntime/blob/main/docs/OperatorKernels.md\nexport const x = 1;\n',
    "// a string is not a comment:\nexport const usage = 'pass OperatorKernels.md';\n",
  ])('accepted: %s', async (code) => {
    expect(await citations(code)).toEqual([]);
  });
});
