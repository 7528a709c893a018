import { defineConfig } from 'vitest/config';

// One `vitest run` drives all suites: unit tests beside the code, CLI integration tests, desktop
// tests on private Xvfb displays, and browser tests in Debian's Chromium.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{agent,native-models,cli,main,renderer}/**/*.test.ts'],
          // Some unit tests decode images or run small ONNX graphs; a busy 2-core machine needs slack.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'desktop',
          include: ['test/desktop/**/*.test.ts'],
          globalSetup: ['test/harness/setup-desktop.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          // WebGPU against the CPU provider, on a real adapter (in CI Mesa's lavapipe, which the
          // setup installs as root). Slow where the adapter is software: lavapipe is a CPU.
          name: 'webgpu',
          include: ['test/webgpu/**/*.test.ts'],
          globalSetup: ['test/harness/setup-webgpu.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/harness/setup-browser.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
