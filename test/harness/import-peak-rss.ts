// Runs one import in this process and prints {"baselineBytes", "peakBytes", "weightBytes",
// "seconds", "sha256"} — the peak resident set size (getrusage, all threads) around a
// real `importKimiVL` call, the import's own time, and the SHA-256 of each file it wrote (graphs
// and weights, read back whole once the import is over and measured; `--no-hash` leaves them out,
// for a caller that hashes the files itself and counts this process's CPU time).
// Usage: import-peak-rss.ts <checkpoint> <out> [precision] [workers] [--no-hash]
import { hashFile } from '../../native-models/checkpoint/file-hash.ts';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';

const [source, out, precision = 'fp32', workers, hash] = process.argv.slice(2);
const baselineBytes = process.resourceUsage().maxRSS * 1024;
const started = performance.now();
const manifest = await importKimiVL({ source: source!, out: out!, precision: precision as 'fp32' | 'fp16' | 'int4', ...(workers !== undefined ? { workers: Number(workers) } : {}) });
const seconds = (performance.now() - started) / 1000;
const peakBytes = process.resourceUsage().maxRSS * 1024;
const files = { text: manifest.text.weights, vision: manifest.vision.weights, textGraph: manifest.text.graph, visionGraph: manifest.vision.graph };
const sha256 = hash === '--no-hash' ? undefined : Object.fromEntries(await Promise.all(Object.entries(files).map(async ([k, f]) => [k, (await hashFile(`${out}/${f.file}`)).sha256])));
process.stdout.write(`${JSON.stringify({ baselineBytes, peakBytes, weightBytes: manifest.text.weights.bytes, seconds, ...(sha256 ? { sha256 } : {}) })}\n`);
