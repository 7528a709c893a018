// Runs one import in this process and prints {"baselineBytes", "peakBytes", "weightBytes"} —
// the peak resident set size (getrusage) around a real `importKimiVL` call.
import { importKimiVL } from '../../native-models/models/kimi-vl/import-checkpoint.ts';

const [source, out, precision = 'fp32'] = process.argv.slice(2);
const baselineBytes = process.resourceUsage().maxRSS * 1024;
const manifest = await importKimiVL({ source: source!, out: out!, precision: precision as 'fp32' | 'fp16' | 'int4' });
process.stdout.write(`${JSON.stringify({ baselineBytes, peakBytes: process.resourceUsage().maxRSS * 1024, weightBytes: manifest.text.weights.bytes })}\n`);
