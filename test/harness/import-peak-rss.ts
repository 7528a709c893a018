// Runs one import in this process and prints {"baselineBytes", "peakBytes", "weightBytes",
// "seconds", "sha256"} — the peak resident set size (getrusage, all threads) around a
// real `importKimiVL` call, the import's own time, and the written weight files' hashes.
// Usage: import-peak-rss.ts <checkpoint> <out> [precision] [workers]
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';

const [source, out, precision = 'fp32', workers] = process.argv.slice(2);
const baselineBytes = process.resourceUsage().maxRSS * 1024;
const started = performance.now();
const manifest = await importKimiVL({ source: source!, out: out!, precision: precision as 'fp32' | 'fp16' | 'int4', ...(workers !== undefined ? { workers: Number(workers) } : {}) });
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({
    baselineBytes,
    peakBytes: process.resourceUsage().maxRSS * 1024,
    weightBytes: manifest.text.weights.bytes,
    seconds,
    sha256: { text: manifest.text.weights.sha256, vision: manifest.vision.weights.sha256, textGraph: manifest.text.graph.sha256, visionGraph: manifest.vision.graph.sha256 },
  })}\n`,
);
