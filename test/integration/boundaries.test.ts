import { ESLint } from 'eslint';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../harness/cli.ts';

// The one-way import rule is enforced by the lint step of `npm test`; these probes prove each
// boundary really trips (and that allowed imports pass), so a loosened config cannot go unnoticed.
const eslint = new ESLint({ cwd: REPO_ROOT });

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

describe('room boundaries', () => {
  test.each([
    ['agent/probe.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['agent/probe.ts', "import { x } from '../native-models/index.ts';\nexport const y = x;\n"],
    ['native-models/probe.ts', "import { ipcMain } from 'electron';\nexport const x = ipcMain;\n"],
    ['native-models/probe.ts', "import { x } from '../agent/index.ts';\nexport const y = x;\n"],
    ['cli/probe.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['renderer/src/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    ['renderer/src/probe.ts', "import { spawn } from 'child_process';\nexport const x = spawn;\n"],
    ['renderer/src/probe.ts', "import { x } from '../../host/routes.ts';\nexport const y = x;\n"],
    ['renderer/src/probe.ts', "import type { X } from '../../host/routes.ts';\nexport type Y = X;\n"],
    ['renderer/src/probe.ts', "import { x } from '../../host/ui-types.ts';\nexport const y = x;\n"],
    ['renderer/src/probe.ts', "import type { X } from '../../main/index.ts';\nexport type Y = X;\n"],
    ['renderer/src/probe.ts', "import { x } from '../../agent/index.ts';\nexport const y = x;\n"],
    ['renderer/src/probe.ts', "import { writeFileAtomic } from '../../shared/files.ts';\nexport const x = writeFileAtomic;\n"],
    ['host/probe.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['host/probe.ts', "import { x } from '../main/index.ts';\nexport const y = x;\n"],
    ['host/probe.ts', "import { x } from '../cli/main.ts';\nexport const y = x;\n"],
    ['cli/probe.ts', "import { x } from '../main/index.ts';\nexport const y = x;\n"],
    ['main/probe.ts', "import { x } from '../cli/main.ts';\nexport const y = x;\n"],
    ['cli/probe.ts', "import { x } from '../native-models/models/kimi-vl/runtime/local-model.ts';\nexport const y = x;\n"],
    ['host/probe.ts', "import { x } from '../native-models/testing.ts';\nexport const y = x;\n"],
    ['host/probe.test.ts', "import { x } from '../native-models/onnx/backend.ts';\nexport const y = x;\n"],
    ['cli/probe.ts', "import { x } from '../agent/loop/run-agent.ts';\nexport const y = x;\n"],
    ['host/probe.ts', "import { x } from '../agent/desktop/x11-keys.ts';\nexport const y = x;\n"],
    ['main/probe.ts', "import type { X } from '../agent/operator.ts';\nexport type Y = X;\n"],
    ['cli/probe.ts', "import { x } from '../agent/testing.ts';\nexport const y = x;\n"],
    ['cli/probe.ts', "import { x } from '../host/host.ts';\nexport const y = x;\n"],
    ['main/probe.ts', "import type { X } from '../host/routes.ts';\nexport type Y = X;\n"],
    ['shared/probe.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    ['shared/probe.ts', "import { x } from '../agent/index.ts';\nexport const y = x;\n"],
    ['native-models/models/kimi-vl/runtime/probe.ts', "import { x } from '../import/import-checkpoint.ts';\nexport const y = x;\n"],
    ['native-models/models/kimi-vl/runtime/probe.ts', "import { ipcMain } from 'electron';\nexport const x = ipcMain;\n"],
    ['native-models/models/kimi-vl/graphs/probe.ts', "import { x } from '../testing/reference-text.ts';\nexport const y = x;\n"],
    ['native-models/models/kimi-vl/processing/probe.ts', "import { x } from '../import/import-worker.ts';\nexport const y = x;\n"],
    ['native-models/models/kimi-vl/probe.ts', "import { x } from './import/weights-size.ts';\nexport const y = x;\n"],
    ['native-models/models/kimi-vl/import/probe.ts', "import { x } from '../testing/tiny-checkpoint.ts';\nexport const y = x;\n"],
    ['native-models/models/kimi-vl/import/probe.ts', "import { x } from '../runtime/local-model.ts';\nexport const y = x;\n"],
    ['native-models/models/kimi-vl/graphs/probe.ts', "import { x } from '../runtime/text-session.ts';\nexport const y = x;\n"],
  ])('%s may not import: %s', async (file, code) => {
    expect(await violations(file, code)).toHaveLength(1);
  });

  test.each([
    ['main/probe.ts', "import { app } from 'electron';\nimport { x } from '../agent/index.ts';\nexport const y = [app, x];\n"],
    ['renderer/src/probe.ts', "import type { X } from '../../host/ui-types.ts';\nexport type Y = X;\n"],
    ['renderer/src/probe.ts', "import { targetOf } from '../../shared/actions.ts';\nexport const x = targetOf;\n"],
    ['host/probe.ts', "import { x } from '../agent/index.ts';\nimport { DEVICES } from '../native-models/index.ts';\nexport const y = [x, DEVICES];\n"],
    ['cli/probe.ts', "import { x } from '../host/index.ts';\nimport { KimiVLLocalModel } from '../native-models/runtime.ts';\nexport const y = [x, KimiVLLocalModel];\n"],
    ['host/probe.test.ts', "import { writeTinyCheckpoint } from '../native-models/testing.ts';\nexport const y = writeTinyCheckpoint;\n"],
    ['main/probe.ts', "import { DesktopOperator } from '../agent/desktop.ts';\nimport type { DisplayInfo } from '../agent/types.ts';\nexport const y: [unknown, DisplayInfo?] = [DesktopOperator];\n"],
    ['cli/probe.ts', "import { runOsworldTask } from '../agent/eval.ts';\nexport const y = runOsworldTask;\n"],
    ['host/probe.test.ts', "import { RecordingOperator } from '../agent/testing.ts';\nexport const y = RecordingOperator;\n"],
    ['cli/ui-host/probe.ts', "import { x } from './server.ts';\nexport const y = x;\n"],
    ['shared/files.ts', "import { open } from 'node:fs/promises';\nexport const x = open;\n"],
    ['agent/probe.ts', "import { readFile } from 'node:fs/promises';\nexport const x = readFile;\n"],
    ['native-models/models/kimi-vl/runtime/probe.ts', "import { x } from '../graphs/modeling-text.ts';\nimport { y } from '../processing/tokenization.ts';\nimport { z } from '../manifest.ts';\nexport const w = [x, y, z];\n"],
    ['native-models/models/kimi-vl/import/probe.ts', "import { x } from '../graphs/modeling-text.ts';\nexport const y = x;\n"],
    ['native-models/models/kimi-vl/testing/probe.ts', "import { x } from '../import/import-checkpoint.ts';\nexport const y = x;\n"],
    ['native-models/models/kimi-vl/runtime/probe.test.ts', "import { x } from '../import/import-checkpoint.ts';\nimport { y } from '../testing/tiny-checkpoint.ts';\nexport const z = [x, y];\n"],
  ])('%s may import: %s', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  });
});
