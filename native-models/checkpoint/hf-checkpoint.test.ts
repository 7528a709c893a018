import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { tinyCheckpoint, tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { firstDifference, maxAbsDiff } from '../../test/harness/floats.ts';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16 } from '../numeric/half.ts';
import { HfCheckpoint } from './hf-checkpoint.ts';

const bf16 = tinyCheckpoint({ dtype: 'bf16' });
const fp32 = tinyCheckpoint({ dtype: 'fp32', shards: 3 });
const fp16 = tinyCheckpoint({ dtype: 'fp16' });
afterAll(() => {
  bf16.cleanup();
  fp16.cleanup();
  fp32.cleanup();
});

const Q = 'language_model.model.layers.1.self_attn.q_proj.weight';

describe('HfCheckpoint', () => {
  test('reads single-file bf16 / fp16 and sharded fp32 checkpoints to the same values', () => {
    const a = HfCheckpoint.open(bf16.dir);
    const b = HfCheckpoint.open(fp32.dir);
    expect(b.fileNames).toHaveLength(3);
    expect(a.tensorNames.sort()).toEqual(b.tensorNames.sort());
    expect(a.info(Q).dtype).toBe('BF16');
    expect(b.info(Q).dtype).toBe('F32');
    const full = b.read(Q);
    expect(maxAbsDiff(a.read(Q), bfloat16ToFloat32(float32ToBfloat16(full)))).toBe(0);
    const h = HfCheckpoint.open(fp16.dir);
    expect(h.info(Q).dtype).toBe('F16');
    expect(maxAbsDiff(h.read(Q), float16ToFloat32(float32ToFloat16(full)))).toBe(0);
    h.close();
    a.close();
    b.close();
  });

  test('streams rows in chunks that concatenate to the whole tensor', () => {
    const c = HfCheckpoint.open(fp32.dir);
    const name = 'language_model.model.embed_tokens.weight';
    const whole = c.read(name);
    const chunks = [...c.readRows(name, 64 * 1000)];
    expect(chunks.length).toBeGreaterThan(100);
    const joined = new Float32Array(whole.length);
    let o = 0;
    for (const ch of chunks) {
      joined.set(ch, o);
      o += ch.length;
    }
    expect(o).toBe(whole.length);
    expect(maxAbsDiff(joined, whole)).toBe(0);
    c.close();
  });

  test('bf16 tensors read unwidened are their stored bit patterns, whole and in chunks of rows; other types are refused', () => {
    const c = HfCheckpoint.open(bf16.dir);
    const name = 'language_model.model.embed_tokens.weight';
    const widened = new Uint32Array(c.read(name).buffer);
    const stored = Uint16Array.from(widened, (v) => v >>> 16);
    expect(Array.from(widened, (v) => v & 0xffff).every((low) => low === 0)).toBe(true);
    expect(firstDifference(c.readBf16(name), stored)).toBe(-1);
    const chunks = [...c.readBf16Rows(name, 3000, 3, 2000)];
    expect(chunks.length).toBeGreaterThan(10);
    const rowSize = c.info(name).shape[1]!;
    const joined = new Uint16Array(chunks.reduce((sum, ch) => sum + ch.length, 0));
    chunks.reduce((at, ch) => (joined.set(ch, at), at + ch.length), 0);
    expect(firstDifference(joined, stored.subarray(3 * rowSize, 2000 * rowSize))).toBe(-1);
    c.close();
    const f = HfCheckpoint.open(fp32.dir);
    expect(() => f.readBf16(Q)).toThrow(`tensor ${Q} is F32, not BF16`);
    f.close();
  });

  test('mis-shaped and missing tensors name the file and tensor', () => {
    const c = HfCheckpoint.open(bf16.dir);
    expect(() => c.expectShape(Q, [10, 64])).toThrow(/^model\.safetensors: tensor language_model\.model\.layers\.1\.self_attn\.q_proj\.weight has shape \[96, 64\], expected \[10, 64\]/);
    expect(() => c.read('language_model.model.layers.99.mlp.gate.weight')).toThrow(/tensor language_model\.model\.layers\.99\.mlp\.gate\.weight is missing/);
    c.close();
  });

  describe('damaged folders', () => {
    const t = tempDir('damaged');
    afterAll(t.cleanup);
    const copy = (name: string): string => {
      const dir = join(t.dir, name);
      mkdirSync(dir);
      for (const f of readdirSync(fp32.dir)) copyFileSync(join(fp32.dir, f), join(dir, f));
      return dir;
    };

    test('a truncated shard', () => {
      const dir = copy('truncated');
      const shard = join(dir, 'model-00002-of-00003.safetensors');
      truncateSync(shard, statSync(shard).size - 100);
      expect(() => HfCheckpoint.open(dir)).toThrow(/^model-00002-of-00003\.safetensors: truncated — tensor \S+ ends at byte \d+ but the file has \d+; re-download it$/);
    });

    test('a bad header', () => {
      const dir = copy('garbage');
      writeFileSync(join(dir, 'model-00001-of-00003.safetensors'), 'this is not a safetensors file at all');
      expect(() => HfCheckpoint.open(dir)).toThrow(/model-00001-of-00003\.safetensors: bad safetensors header length/);
    });

    test('a shard listed in the index but not downloaded', () => {
      const dir = copy('missing');
      rmSync(join(dir, 'model-00003-of-00003.safetensors'));
      expect(() => HfCheckpoint.open(dir)).toThrow(/lists model-00003-of-00003\.safetensors \(for \S+\) but the file is missing; download it/);
    });

    test('integer tensors are listed but refused as weights, by name', () => {
      const dir = join(t.dir, 'ints');
      mkdirSync(dir);
      writeFileSync(join(dir, 'config.json'), '{}');
      const path = join(dir, 'model.safetensors');
      const header = JSON.stringify({ step: { dtype: 'I64', shape: [1], data_offsets: [0, 8] }, w: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } });
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(header.length));
      writeFileSync(path, Buffer.concat([len, Buffer.from(header), Buffer.from(new BigInt64Array([7n]).buffer), Buffer.from(Float32Array.of(1.5, -2).buffer)]));
      const c = HfCheckpoint.open(dir);
      expect(Array.from(c.read('w'))).toEqual([1.5, -2]);
      expect(() => c.read('step')).toThrow('model.safetensors: tensor step is I64; only F32, F16 and BF16 tensors can be loaded as weights');
      expect(() => c.expectShape('step', [1])).toThrow(/tensor step is I64, not F32\/F16\/BF16; this looks like a quantized checkpoint/);
      c.close();
    });

    test('a folder with no weights', () => {
      expect(() => HfCheckpoint.open(t.dir)).toThrow(/has neither model\.safetensors nor model\.safetensors\.index\.json/);
    });
  });
});
