import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { expect, test } from 'vitest';

/** The packages a module loads through its static, non-type imports and re-exports, followed file by file. */
function packagesLoadedBy(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(resolve(import.meta.dirname, entry));
  return packages;
}

test('native-models/index.ts is cheap: nothing behind it loads onnxruntime-node, so hosts may import it at startup', () => {
  expect(packagesLoadedBy('index.ts')).not.toContain('onnxruntime-node');
  // The model entry does load it: the walk above finds what it is looking for.
  expect(packagesLoadedBy('runtime.ts')).toContain('onnxruntime-node');
});
