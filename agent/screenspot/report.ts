import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { AccuracySummary, Tally } from './metric.ts';
import type { ScreenSpotResult } from './results-file.ts';

export interface ReportOptions {
  readonly title: string;
  readonly results: readonly ScreenSpotResult[];
  readonly summary: AccuracySummary;
  readonly imagesDir: string;
  /** Images are embedded scaled to at most this width (the overlay keeps original pixel units). */
  readonly maxImageWidth?: number;
}

/** Model output and file names are untrusted: everything printed goes through here. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function embeddedImage(path: string, maxWidth: number): Promise<string> {
  try {
    const jpeg = await sharp(await readFile(path))
      .resize({ width: maxWidth, withoutEnlargement: true })
      .jpeg({ quality: 80 })
      .toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } catch {
    return '';
  }
}

function tallyRows(label: string, buckets: Record<string, Tally>): string {
  return Object.entries(buckets)
    .map(
      ([name, t]) =>
        `<tr><th scope="row">${escapeHtml(label)}: ${escapeHtml(name)}</th><td>${(t.accuracy * 100).toFixed(2)}%</td><td>${t.correct}/${t.total}</td></tr>`,
    )
    .join('\n');
}

function card(result: ScreenSpotResult, src: string): string {
  const { box, imageSize: size, point } = result;
  const verdict = result.correct ? 'hit' : point ? 'miss' : 'no point';
  const r = Math.max(4, Math.round(Math.max(size.width, size.height) / 160));
  const marker = point
    ? `<circle class="point" cx="${point.x}" cy="${point.y}" r="${r}"/>` +
      `<line class="point" x1="${point.x - 2 * r}" y1="${point.y}" x2="${point.x + 2 * r}" y2="${point.y}"/>` +
      `<line class="point" x1="${point.x}" y1="${point.y - 2 * r}" x2="${point.x}" y2="${point.y + 2 * r}"/>`
    : '';
  const where = [result.dataType, result.platform, result.application, result.group].filter(Boolean).map((s) => escapeHtml(s!));
  return `<figure class="sample ${result.correct ? 'hit' : 'miss'}" data-id="${escapeHtml(result.id)}">
<div class="frame" style="aspect-ratio:${size.width}/${size.height};width:min(100%,${Math.round((480 * size.width) / size.height)}px)">
<img src="${src}" alt="${escapeHtml(result.imageFile)}">
<svg viewBox="0 0 ${size.width} ${size.height}" preserveAspectRatio="none" style="--stroke:${r / 2}">
<rect class="box" x="${box.x1}" y="${box.y1}" width="${box.x2 - box.x1}" height="${box.y2 - box.y1}"/>${marker}
</svg></div>
<figcaption><b class="verdict">${verdict}</b> ${escapeHtml(result.instruction)}
<small>${escapeHtml(result.id)} · ${where.join(' · ')} · ${Math.round(result.ms)} ms · point ${point ? `${Math.round(point.x)}, ${Math.round(point.y)}` : 'none'}</small>
<pre>${escapeHtml(result.raw)}</pre></figcaption></figure>`;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin-bottom:16px}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px}
figure{margin:0;border:1px solid #ccc;border-radius:6px;padding:8px}
.frame{position:relative;margin:0 auto}.frame img,.frame svg{position:absolute;inset:0;width:100%;height:100%}
.box{fill:rgba(0,160,80,.15);stroke:#00a050;stroke-width:var(--stroke)}
.point{fill:none;stroke:#e00;stroke-width:var(--stroke)}.hit .point{stroke:#e000c0}
.verdict{text-transform:uppercase}.miss .verdict{color:#c00}.hit .verdict{color:#080}
small{display:block;color:#666}pre{white-space:pre-wrap;background:#f6f6f6;padding:4px;margin:4px 0 0;max-height:8em;overflow:auto}
body.misses-only .hit{display:none}`;

/** A single self-contained HTML file: the accuracy tables, then each image with its box and predicted point. */
export async function renderReport(options: ReportOptions): Promise<string> {
  const maxWidth = options.maxImageWidth ?? 960;
  const cache = new Map<string, Promise<string>>();
  const cards: string[] = [];
  for (const result of options.results) {
    if (!cache.has(result.imageFile)) cache.set(result.imageFile, embeddedImage(join(options.imagesDir, result.imageFile), maxWidth));
    cards.push(card(result, await cache.get(result.imageFile)!));
  }
  const s = options.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style></head>
<body><h1>${escapeHtml(options.title)}</h1>
<table id="summary"><tr><th scope="row">overall</th><td>${(s.overall.accuracy * 100).toFixed(2)}%</td><td>${s.overall.correct}/${s.overall.total}</td></tr>
${tallyRows('type', s.byDataType)}
${tallyRows('platform', s.byPlatform)}
${tallyRows('application', s.byApplication)}
${tallyRows('group', s.byGroup)}
</table>
<label><input type="checkbox" id="misses-only" onchange="document.body.classList.toggle('misses-only',this.checked)"> show misses only</label>
<div class="grid">
${cards.join('\n')}
</div></body></html>
`;
}
