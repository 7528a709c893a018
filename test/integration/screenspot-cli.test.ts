import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runKestrel } from '../harness/cli.ts';
import { startOpenAIServer, type OpenAITestServer } from '../harness/openai-server.ts';
import { scriptedReply } from '../fixtures/screenspot/scripted-reply.ts';
import { generateScreenSpotDataset, type SyntheticDataset } from '../fixtures/screenspot/generate.ts';

const kestrel = (args: string[]) => runKestrel(args);

let server: OpenAITestServer;
let data: SyntheticDataset;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kestrel-eval-'));
  data = await generateScreenSpotDataset(join(dir, 'data'));
  server = await startOpenAIServer();
});
afterAll(async () => {
  await server?.stop();
});

const EXPECTED_PRO = [
  'overall: 57.14% (4/7)',
  'type icon: 66.67% (2/3)',
  'type text: 50.00% (2/4)',
  'platform linux: 66.67% (2/3)',
  'platform mobile: 50.00% (1/2)',
  'platform web: 50.00% (1/2)',
  'application browser: 50.00% (1/2)',
  'application camera: 50.00% (1/2)',
  'application editor: 66.67% (2/3)',
  'group Creative: 50.00% (1/2)',
  'group Dev: 66.67% (2/3)',
  'group Office: 50.00% (1/2)',
];

describe('kestrel eval screenspot through an OpenAI-compatible endpoint', () => {
  const model = () => ['--endpoint', server.baseUrl, '--model', 'kimi-vl-test'];

  test('ScreenSpot-Pro: exact accuracy table, report written, one request per record', async () => {
    server.push(...Array.from({ length: 7 }, () => scriptedReply));
    const before = server.chatRequests().length;
    const results = join(dir, 'pro.jsonl');
    const report = join(dir, 'pro.html');
    const out = await kestrel(['eval', 'screenspot', data.proAnnotations, '--images', data.imagesDir, '--results', results, '--report', report, ...model()]);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`${EXPECTED_PRO.join('\n')}\nresults: ${results}\nreport: ${report}\n`);
    expect(server.chatRequests().length - before).toBe(7);
    expect(out.stderr).toMatch(/\[#{30}\] 7\/7 accuracy 57\.1%/);
    expect(readFileSync(report, 'utf8')).toContain('<figure class="sample hit"');
  });

  test('ScreenSpot v1/v2 (x, y, w, h boxes): same points, same hits; resumes after --limit', async () => {
    const results = join(dir, 'v1.jsonl');
    server.push(...Array.from({ length: 3 }, () => scriptedReply));
    const first = await kestrel(['eval', 'screenspot', data.v1Annotations, '--images', data.imagesDir, '--results', results, '--limit', '3', '--json', ...model()]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).overall).toEqual({ total: 3, correct: 2, accuracy: 2 / 3 });

    server.push(...Array.from({ length: 4 }, () => scriptedReply));
    const before = server.chatRequests().length;
    const second = await kestrel(['eval', 'screenspot', data.v1Annotations, '--images', data.imagesDir, '--results', results, '--json', ...model()]);
    expect(second.code).toBe(0);
    expect(server.chatRequests().length - before).toBe(4);
    expect(second.stderr).toContain('(3 resumed)');
    const summary = JSON.parse(second.stdout);
    expect(summary.overall).toEqual({ total: 7, correct: 4, accuracy: 4 / 7 });
    expect(summary.byDataType).toEqual({ icon: { total: 3, correct: 2, accuracy: 2 / 3 }, text: { total: 4, correct: 2, accuracy: 0.5 } });
    expect(summary.byPlatform).toEqual({ desktop: { total: 7, correct: 4, accuracy: 4 / 7 } });
    expect(readFileSync(results, 'utf8').trim().split('\n')).toHaveLength(7);
  });

  test('bad input and a failing endpoint are one line each; results so far are kept', async () => {
    const noImages = await kestrel(['eval', 'screenspot', data.proAnnotations, ...model()]);
    expect(noImages).toMatchObject({ code: 2, stderr: "kestrel: required option '--images <dir>' not specified\n" });
    const missing = await kestrel(['eval', 'screenspot', join(dir, 'none.json'), '--images', data.imagesDir, ...model()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`kestrel: annotations file ${join(dir, 'none.json')} does not exist\n`);
    // Checked before the model opens: a model folder that cannot load is not what is reported.
    const beforeModel = await kestrel(['eval', 'screenspot', join(dir, 'none.json'), '--images', data.imagesDir, '--model-dir', join(dir, 'no-model')]);
    expect(beforeModel).toMatchObject({ code: 2, stderr: missing.stderr });
    const notFolder = await kestrel(['eval', 'screenspot', data.proAnnotations, '--images', data.proAnnotations, '--model-dir', join(dir, 'no-model')]);
    expect(notFolder).toMatchObject({ code: 2, stderr: `kestrel: --images ${data.proAnnotations} is not a folder; give the folder holding the screenshots the annotations name\n` });

    const results = join(dir, 'failing.jsonl');
    // The client retries a 5xx answer; every attempt fails here.
    const fire = { status: 500, message: 'GPU on fire' };
    server.push(scriptedReply, fire, fire, fire);
    const failed = await kestrel(['eval', 'screenspot', data.proAnnotations, '--images', data.imagesDir, '--results', results, ...model()]);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n').at(-1)).toMatch(/^kestrel: .*GPU on fire.*re-run the same command to resume\)$/);
    expect(server.pending()).toBe(0);
    expect(readFileSync(results, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
