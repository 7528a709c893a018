import { afterAll, describe, expect, test, vi } from 'vitest';
import { firstDifference } from '../../test/harness/floats.ts';
import { tinyCheckpoint } from '../../test/harness/tiny-checkpoint.ts';
import { produceRecipeRowsBf16 } from '../models/kimi-vl/graphs/weight-recipes.ts';
import { SeededRandom } from '../numeric/random.ts';
import { quantizeInt4 } from '../quantization/int4-blocks.ts';
import { isKernelMemory, kernelFor, READ_VALUES } from '../wasm/kernels.ts';
import { joinSpans, readSpan, spanOfValues, type Bf16Span } from './bf16-span.ts';
import { giveBackBuffer, takeBuffer } from './buffers.ts';
import { HfCheckpoint } from './hf-checkpoint.ts';

const bf16 = tinyCheckpoint({ dtype: 'bf16' });
afterAll(() => bf16.cleanup());

const EXPERT = 'language_model.model.layers.1.mlp.experts.3';
const EMBED = 'language_model.model.embed_tokens.weight';

/** Random bf16 bit patterns of finite values, as weights are. */
function randomBits(count: number, seed: number): Uint16Array {
  const rng = new SeededRandom(seed);
  return Uint16Array.from({ length: count }, () => (Math.floor(rng.next() * 2) << 15) | ((100 + Math.floor(rng.next() * 40)) << 7) | Math.floor(rng.next() * 128));
}

describe('bf16 spans', () => {
  test("a checkpoint's spans read the stored bit patterns, whole, by rows and from any offset; reads outside a span are refused", () => {
    const c = HfCheckpoint.open(bf16.dir);
    const stored = c.readBf16(EMBED);
    const whole = c.bf16Span(EMBED);
    expect(whole.length).toBe(stored.length);
    expect(firstDifference(readSpan(whole), stored)).toBe(-1);
    const rowSize = c.info(EMBED).shape[1]!;
    const spans = [...c.bf16RowSpans(EMBED, 3000, 3, 2000)];
    expect(spans.length).toBeGreaterThan(10);
    const joined = readSpan(joinSpans(spans));
    expect(firstDifference(joined, stored.subarray(3 * rowSize, 2000 * rowSize))).toBe(-1);
    const middle = new Uint16Array(77);
    whole.read(middle, 12345);
    expect(firstDifference(middle, stored.subarray(12345, 12345 + 77))).toBe(-1);
    expect(() => whole.read(new Uint16Array(2), whole.length - 1)).toThrow(/has no values/);
    c.close();
  });

  test('two spans held at once never share memory: each read lands where its caller says, in any order (an expert’s gate and up halves)', () => {
    const c = HfCheckpoint.open(bf16.dir);
    const gate = c.bf16Span(`${EXPERT}.gate_proj.weight`);
    const up = c.bf16Span(`${EXPERT}.up_proj.weight`);
    const expected = [c.readBf16(`${EXPERT}.gate_proj.weight`), c.readBf16(`${EXPERT}.up_proj.weight`)];
    expect(firstDifference(expected[0]!, expected[1]!)).not.toBe(-1);
    // Up read first, gate second, into one buffer: the second read must not overwrite the first.
    const both = new Uint16Array(gate.length + up.length);
    up.read(both.subarray(gate.length), 0);
    gate.read(both.subarray(0, gate.length), 0);
    expect(firstDifference(both.subarray(0, gate.length), expected[0]!)).toBe(-1);
    expect(firstDifference(both.subarray(gate.length), expected[1]!)).toBe(-1);
    // Joined, in pieces that straddle the boundary.
    const join = joinSpans([gate, up]);
    const pieces = new Uint16Array(join.length);
    for (const [from, to] of [[0, 5], [5, gate.length - 3], [gate.length - 3, gate.length + 9], [gate.length + 9, join.length]] as const) join.read(pieces.subarray(from, to), from);
    expect(firstDifference(pieces, both)).toBe(-1);
    expect(() => join.read(new Uint16Array(4), join.length - 2)).toThrow(/has no values/);
    c.close();
  });

  test("an fc1 expert in halves is its gate tensor's span then its up tensor's, read by no one until used (no read buffer, no copy into place)", async () => {
    const c = HfCheckpoint.open(bf16.dir);
    const reads = vi.spyOn(c, 'readBf16');
    const spans: Bf16Span[] = [];
    for await (const span of produceRecipeRowsBf16(c, { kind: 'experts-fc1', prefix: 'language_model.model.layers.1.mlp.experts', experts: 8, halves: true }, 2, 5)) spans.push(span);
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    expect(spans).toHaveLength(3);
    spans.forEach((span, i) => {
      const e = 2 + i;
      const expected = [...c.readBf16(`language_model.model.layers.1.mlp.experts.${e}.gate_proj.weight`), ...c.readBf16(`language_model.model.layers.1.mlp.experts.${e}.up_proj.weight`)];
      expect(firstDifference(readSpan(span), Uint16Array.from(expected)), `expert ${e}`).toBe(-1);
    });
    c.close();
  });

  test('the WASM quantiser reads a span straight into its own memory, a block of rows at a time, and gets the bytes of the values in memory', () => {
    if (kernelFor() !== 'wasm') return expect(kernelFor()).toBe('wasm');
    const k = 1040;
    const n = Math.ceil(READ_VALUES / k) + 50; // more than one block
    const [a, b] = [randomBits(250 * k, 1), randomBits((n - 250) * k, 2)];
    const all = new Uint16Array(n * k);
    all.set(a);
    all.set(b, a.length);
    const into: Uint16Array[] = [];
    const watched = (values: Uint16Array): Bf16Span => ({ length: values.length, read: (out, from) => (into.push(out), out.set(values.subarray(from, from + out.length))) });
    for (const symmetric of [false, true]) {
      into.length = 0;
      const expected = quantizeInt4(all, n, k, { symmetric, blockSize: 64, kernel: 'js' });
      const q = quantizeInt4(joinSpans([watched(a), watched(b)]), n, k, { symmetric, blockSize: 64 });
      for (const part of ['packed', 'scales', 'zeroPoints'] as const) expect(firstDifference(q[part], expected[part]), `${part}, symmetric ${symmetric}`).toBe(-1);
      // Every read went into the module's memory (not a read buffer of its own), a block at a time.
      expect(into.every((view) => isKernelMemory(view.buffer) && view.length <= READ_VALUES)).toBe(true);
      expect(into.length).toBeGreaterThan(2);
      expect(into.reduce((sum, view) => sum + view.length, 0)).toBe(n * k);
      // …and the JS kernel, which reads the span into memory of its own, gives the same bytes.
      const js = quantizeInt4(joinSpans([spanOfValues(a), spanOfValues(b)]), n, k, { symmetric, blockSize: 64, kernel: 'js' });
      for (const part of ['packed', 'scales', 'zeroPoints'] as const) expect(firstDifference(js[part], expected[part]), `JS ${part}`).toBe(-1);
    }
  });

  test('a span over values in memory gives their pooled buffer back when released', () => {
    const values = new Uint16Array(takeBuffer(2 * 1000));
    values.fill(7);
    const span = spanOfValues(values);
    span.release!();
    expect(new Uint16Array(takeBuffer(2 * 1000)).buffer).toBe(values.buffer);
    giveBackBuffer(values.buffer);
  });
});
