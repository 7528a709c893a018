import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { REPO_ROOT } from '../harness/cli.ts';

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

/** Backticked names that look like a path: `host/routes.ts`, `cli/ui-host/`, `run-agent.ts`. */
function pathsIn(markdown: string): string[] {
  return [...markdown.matchAll(/`([\w.<>/-]+\/[\w./-]*|[\w.-]+\.(?:ts|js|md))`/g)].map((m) => m[1]!).filter((p) => !p.includes('<'));
}

/** Whether a path named in a README exists from the README's folder, the repository root, or anywhere under the folder. */
function exists(path: string, folder: string): boolean {
  const bare = path.replace(/\/$/, '');
  if (existsSync(join(REPO_ROOT, folder, bare)) || existsSync(join(REPO_ROOT, bare))) return true;
  const name = bare.split('/').pop()!;
  const find = (dir: string): boolean =>
    readdirSync(dir).some((entry) => {
      if (entry === 'node_modules' || entry.startsWith('.')) return false;
      const full = join(dir, entry);
      return entry === name ? full.endsWith(bare) : statSync(full).isDirectory() && find(full);
    });
  return find(join(REPO_ROOT, folder));
}

test('the folder map in README.md and the rooms in docs/ARCHITECTURE.md list every top-level folder', () => {
  // The folders git tracks: what tests and builds leave behind (out/, results/) is not the map's.
  const tracked = execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\n');
  const folders = [...new Set(tracked.filter((f) => f.includes('/') && !f.startsWith('.')).map((f) => f.split('/')[0]!))];
  expect(folders).toContain('host');
  const readme = read('README.md');
  const architecture = read('docs/ARCHITECTURE.md');
  for (const folder of folders) expect(readme, `README.md's folder map lacks ${folder}/`).toContain(`| \`${folder}/\``);
  for (const room of ['shared', 'agent', 'native-models', 'host', 'main', 'cli', 'renderer']) expect(architecture).toContain(`| \`${room}/\``);
});

test('every file or folder the map and the room READMEs name exists', () => {
  const docs = ['docs/ARCHITECTURE.md', ...['agent', 'native-models', 'host', 'shared', 'cli', 'main'].map((room) => `${room}/README.md`)];
  const missing = docs.flatMap((doc) => {
    const folder = doc.startsWith('docs/') ? '.' : doc.split('/')[0]!;
    return pathsIn(read(doc)).filter((p) => !exists(p, folder)).map((p) => `${doc}: ${p}`);
  });
  expect(missing).toEqual([]);
});
