import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Main and preload externalise npm dependencies (native modules such as onnxruntime-node
// and libnut must stay real files on disk); the renderer is a plain bundled web page.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      // The model importer's worker threads load their module by path: built beside the
      // chunks (import-checkpoint.ts looks for ./import-worker.js next to itself).
      lib: { entry: { index: resolve('main/index.ts'), 'import-worker': resolve('native-models/models/kimi-vl/import/import-worker.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: true,
      // Sandboxed preloads cannot be ES modules.
      lib: {
        entry: { preload: resolve('main/preload.ts'), 'overlay-preload': resolve('main/overlay-preload.ts') },
        formats: ['cjs'],
      },
    },
  },
  renderer: {
    root: resolve('renderer'),
    plugins: [svelte({ configFile: resolve('svelte.config.js') })],
    build: {
      outDir: resolve('out/renderer'),
      rollupOptions: { input: { index: resolve('renderer/index.html'), overlay: resolve('renderer/overlay.html') } },
    },
  },
});
