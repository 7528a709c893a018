import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runScreenSpot } from '../../agent/screenspot/evaluate.ts';
import { loadScreenSpotAnnotations } from '../../agent/screenspot/records.ts';
import { renderReport } from '../../agent/screenspot/report.ts';
import { artifactPath } from '../harness/artifacts.ts';
import { launchChromium } from '../harness/chromium.ts';
import { generateScreenSpotDataset, SCRIPTED_POINTS } from '../fixtures/screenspot/generate.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the ScreenSpot HTML report', () => {
  test('shows every image with its box and the predicted point where the model put it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-report-'));
    const data = await generateScreenSpotDataset(dir);
    const records = await loadScreenSpotAnnotations(data.proAnnotations);
    const run = await runScreenSpot({
      records,
      imagesDir: data.imagesDir,
      resultsPath: join(dir, 'results.jsonl'),
      ground: async (_png, query) => {
        const point = SCRIPTED_POINTS[query] ?? null;
        return { point, raw: query === 'go back' ? '<script>window.pwned=1</script>' : 'click', ms: 12 };
      },
    });
    const html = await renderReport({ title: 'Synthetic ScreenSpot-Pro', results: run.results, summary: run.summary, imagesDir: data.imagesDir });
    const file = artifactPath('screenspot', 'report.html');
    writeFileSync(file, html);
    expect(html).not.toMatch(/src="(?!data:)/);

    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    await page.goto(pathToFileURL(file).href);
    await expect.poll(() => page.locator('figure.sample img').evaluateAll((imgs) => imgs.every((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0))).toBe(true);
    expect(await page.locator('figure.sample').count()).toBe(7);
    expect(await page.locator('figure.sample.hit').count()).toBe(4);
    expect(await page.locator('#summary').innerText()).toContain('57.14%');
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('[data-id="synthetic_3"] pre').innerText()).toBe('<script>window.pwned=1</script>');
    expect(await page.locator('[data-id="synthetic_3"] circle').count()).toBe(0);

    // The drawn point and box sit where they should on the shown image (scaled from original pixels).
    for (const [index, record] of records.entries()) {
      const figure = page.locator(`[data-id="${record.id}"]`);
      const img = (await figure.locator('img').boundingBox())!;
      const size = run.results[index]!.imageSize;
      const scale = img.width / size.width;
      const rect = (await figure.locator('rect.box').boundingBox())!;
      // Bounding boxes include the stroke, so compare centres, and sizes within a stroke width.
      expect(rect.x + rect.width / 2).toBeCloseTo(img.x + ((record.box.x1 + record.box.x2) / 2) * scale, 0);
      expect(rect.y + rect.height / 2).toBeCloseTo(img.y + ((record.box.y1 + record.box.y2) / 2) * scale, 0);
      expect(Math.abs(rect.width - (record.box.x2 - record.box.x1) * scale)).toBeLessThan(4);
      const point = SCRIPTED_POINTS[record.instruction];
      if (!point) continue;
      const circle = (await figure.locator('circle').boundingBox())!;
      expect(circle.x + circle.width / 2).toBeCloseTo(img.x + point.x * scale, 0);
      expect(circle.y + circle.height / 2).toBeCloseTo(img.y + point.y * scale, 0);
    }
    await page.screenshot({ path: artifactPath('screenspot', 'report.png'), fullPage: true });
    await page.close();
  });
});
