import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import svelteConfig from './svelte.config.js';
import commentCitations from './eslint-rules/comment-citations.js';

// The rooms and which way imports may flow (docs/ARCHITECTURE.md):
//   main (Electron shell) → host ← cli;  hosts → agent, native-models;  renderer → (types only) host
// Only main/ imports Electron; the renderer never imports Node. Inside a model family:
//   runtime → processing, graphs, root;  import → processing, graphs, root;  testing → anything.
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const electron = { name: 'electron', message: 'Only main/ may import Electron; pass what you need in as an interface.' };
const room = (name, message) => ({ group: [`**/${name}`, `**/${name}/**`], message });
// Other rooms reach a room only through its entries (docs/ARCHITECTURE.md lists them); a room's
// own files, its tests included, import inside it freely.
const entries = (roomName, files, why) => ({
  group: [`**/${roomName}/**`, ...files.map((e) => `!**/${roomName}/${e}`)],
  message: `Import ${roomName}/ through ${files.map((e) => `${roomName}/${e}`).join(', ')}${why}; export what you need there.`,
});
// The model runtime: index.ts (names, types, errors; no native library), runtime.ts (the model
// itself) and, for tests, testing.ts.
const modelsEntry = entries('native-models', ['index.ts', 'runtime.ts'], ' (testing.ts is for tests)');
const modelsEntryForTests = entries('native-models', ['index.ts', 'runtime.ts', 'testing.ts'], '');
// The agent: index.ts (the agent), types.ts (types and run defaults: light, no Node),
// desktop.ts (the desktop operator), eval.ts (OSWorld, ScreenSpot) and, for tests, testing.ts.
const agentFiles = ['index.ts', 'types.ts', 'desktop.ts', 'eval.ts'];
const agentEntry = entries('agent', agentFiles, ' (testing.ts is for tests)');
const agentEntryForTests = entries('agent', [...agentFiles, 'testing.ts'], '');
// The host core, for cli/ and main/: index.ts. (The renderer's entry, ui-types.ts, is types only.)
const hostEntry = entries('host', ['index.ts'], '');

const modelsRoomPatterns = [
  room('agent', 'native-models/ must not import agent/; it implements the interface structurally.'),
  room('main', 'native-models/ must not depend on the Electron host.'),
  room('host', 'native-models/ must not depend on the host core.'),
  room('renderer', 'native-models/ must not depend on the UI.'),
  room('cli', 'native-models/ must not depend on the CLI host.'),
];
// Inside a model family (models/<family>/), by job: what runs a model (runtime/) never imports the
// importer (import/) or the tests' helpers (testing/); the importer imports neither runtime/ nor
// testing/; what both build on (the family's root files, processing/, graphs/) imports none of
// the three. testing/ and tests import anything.
const job = (name, message) => ({ group: [`**/${name}/**`], message });
const noImporter = job('import', 'Running a model must not depend on the importer: move what both need to the family\'s root or to graphs/.');
const noRuntime = job('runtime', 'runtime/ opens imported folders and builds on processing/ and graphs/; they, and the importer, must not depend on it.');
const noTesting = job('testing', 'testing/ holds tiny checkpoints and references for tests; code that ships must not depend on it.');

/** native-models' rules: no host room, and inside models/<family>/ the jobs' one-way imports. */
function modelsRoom() {
  const rule = (extra) => ({ '@typescript-eslint/no-restricted-imports': ['error', { paths: [electron], patterns: [...modelsRoomPatterns, ...extra] }] });
  const family = 'native-models/models/*';
  const ignores = ['native-models/**/*.test.ts'];
  return [
    { files: ['native-models/**'], rules: rule([]) },
    { files: [`${family}/*.ts`, `${family}/processing/**`, `${family}/graphs/**`], ignores, rules: rule([noImporter, noRuntime, noTesting]) },
    { files: [`${family}/runtime/**`], ignores, rules: rule([noImporter, noTesting]) },
    { files: [`${family}/import/**`], ignores, rules: rule([noRuntime, noTesting]) },
  ];
}

/** A host room's import rules: agent/ and native-models/ only through their entries, the test entries in tests only. */
function host(files, paths, patterns) {
  const rule = (...extra) => ({ '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns: [...patterns, ...extra] }] });
  return [
    { files, rules: rule(modelsEntry, agentEntry) },
    { files: files.map((f) => `${f}/*.test.ts`), rules: rule(modelsEntryForTests, agentEntryForTests) },
  ];
}

/** shared/ is imported by every room, so it imports none. */
const sharedImportsNoRoom = ['agent', 'native-models', 'host', 'main', 'cli', 'renderer'].map((name) => room(name, 'shared/ is imported by every room and imports none.'));

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'release/', 'test-results/', 'coverage/'] },
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, svelteConfig } },
  },
  {
    plugins: { kestrel: { rules: { 'comment-citations': commentCitations } } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'kestrel/comment-citations': 'error',
    },
  },
  {
    files: ['agent/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [
            room('native-models', 'agent/ reaches models only through its VisionLanguageModel interface, passed in.'),
            room('main', 'agent/ must not depend on the Electron host.'),
            room('host', 'agent/ must not depend on the host core; the host calls the agent.'),
            room('renderer', 'agent/ must not depend on the UI.'),
            room('cli', 'agent/ must not depend on the CLI host.'),
          ],
        },
      ],
    },
  },
  ...modelsRoom(),
  {
    // The basics every room may import (errors, one-line text, timing, files) and the types that
    // cross room boundaries (actions, model messages). shared/ imports no room; all of it but
    // files.ts runs in the renderer too, so only files.ts may use Node.
    files: ['shared/**'],
    ignores: ['shared/files.ts', 'shared/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [electron, ...nodeBuiltins.map((name) => ({ name, message: 'shared/ runs in the renderer too: keep Node to shared/files.ts.' }))],
          patterns: sharedImportsNoRoom,
        },
      ],
    },
  },
  {
    files: ['shared/files.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [electron], patterns: sharedImportsNoRoom },
      ],
    },
  },
  // The hosts: cli/ and main/ over host/.
  ...host(['host/**'], [electron], [
    room('main', 'host/ is the Electron-free core that main/ and cli/ both use; it must not depend on either.'),
    room('cli', 'host/ is the Electron-free core that main/ and cli/ both use; it must not depend on either.'),
    room('renderer', 'host/ serves the renderer through the typed bridge; it does not import it.'),
  ]),
  ...host(['cli/**'], [electron], [
    room('renderer', 'The CLI serves the built renderer; it does not import it.'),
    room('main', 'The CLI reaches the shared core through host/, never through the Electron shell.'),
    hostEntry,
  ]),
  ...host(['main/**'], [], [
    room('cli', 'main/ reaches the shared core through host/; the CLI is another host.'),
    room('renderer', 'main/ loads the built renderer; it does not import it.'),
    hostEntry,
  ]),
  {
    files: ['renderer/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            electron,
            ...nodeBuiltins.map((name) => ({ name, message: 'The renderer runs in a sandboxed page: no Node modules.' })),
          ],
          patterns: [
            // host/ only through ui-types.ts, and only its types (one pattern allowing types would let any type import pass).
            { group: ['**/host/**', '!**/host/ui-types.ts'], message: 'The renderer imports host/ types through host/ui-types.ts only; export what you need there.' },
            { group: ['**/host/ui-types.ts'], message: 'The renderer may import only types from host/.', allowTypeImports: true },
            room('main', 'The renderer talks to the Electron shell through the typed bridge only.'),
            room('agent', 'The renderer talks to the agent through the typed bridge only.'),
            room('native-models', 'The renderer talks to models through the typed bridge only.'),
            room('cli', 'The renderer does not depend on the CLI host.'),
            { group: ['**/shared/files.ts'], message: 'shared/files.ts uses Node; the renderer runs in a sandboxed page.' },
          ],
        },
      ],
    },
  },
);
