import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import svelteConfig from './svelte.config.js';
import commentCitations from './eslint-rules/comment-citations.js';

// The rooms and which way imports may flow (README.md#folders):
//   renderer → (types only) main → agent → (interface) native-models
// agent/ and native-models/ never import Electron; the renderer never imports Node.
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const electron = { name: 'electron', message: 'Only main/ may import Electron; pass what you need in as an interface.' };
const room = (name, message) => ({ group: [`**/${name}`, `**/${name}/**`], message });

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
            room('renderer', 'agent/ must not depend on the UI.'),
            room('cli', 'agent/ must not depend on the CLI host.'),
          ],
        },
      ],
    },
  },
  {
    files: ['native-models/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [electron],
          patterns: [
            room('agent', 'native-models/ must not import agent/; it implements the interface structurally.'),
            room('main', 'native-models/ must not depend on the Electron host.'),
            room('renderer', 'native-models/ must not depend on the UI.'),
            room('cli', 'native-models/ must not depend on the CLI host.'),
          ],
        },
      ],
    },
  },
  {
    files: ['cli/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [electron], patterns: [room('renderer', 'The CLI serves the built renderer; it does not import it.')] },
      ],
    },
  },
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
            { ...room('main', 'The renderer may import only types from main/.'), allowTypeImports: true },
            room('agent', 'The renderer talks to the agent through the typed bridge only.'),
            room('native-models', 'The renderer talks to models through the typed bridge only.'),
            room('cli', 'The renderer does not depend on the CLI host.'),
          ],
        },
      ],
    },
  },
);
