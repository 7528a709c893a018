import { expect, test } from 'vitest';
import { CheckpointError, ImportCancelledError, OutputFolderError } from '../native-models/index.ts';
import { DeviceUnavailableError, ImageInputError, ImageProcessorConfigError, MultimodalPromptError, TokenizerInputError, VisionNotAvailableError } from '../native-models/runtime.ts';
import { ModelEndpointError } from '../agent/index.ts';
import { KestrelError } from '../shared/errors.ts';
import { CliError } from './errors.ts';
import { main } from './main.ts';

test('the errors the CLI once listed by kind are all KestrelErrors, with the exit code they had', () => {
  const failures = [new CheckpointError('x'), new VisionNotAvailableError(), new ImageInputError('x'), new ImageProcessorConfigError('x'), new MultimodalPromptError('x'), new DeviceUnavailableError('x'), new TokenizerInputError('x'), new ModelEndpointError('x')];
  for (const err of failures) expect([err.name, err instanceof KestrelError && err.exitCode]).toEqual([err.name, 1]);
  expect(new OutputFolderError('x').exitCode).toBe(2);
  expect(new ImportCancelledError('x').exitCode).toBe(130);
  expect(new CliError('x', 2)).toMatchObject({ name: 'CliError', exitCode: 2, message: 'x' });
});

test('kestrel prints a typed error from another room as one line and ends with its exit code', async () => {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stderr.write;
  try {
    const code = await main(['model', 'info', '/nonexistent/kestrel-model-folder']);
    expect(code).toBe(1);
  } finally {
    process.stderr.write = write;
  }
  expect(written.join('')).toMatch(/^kestrel: (?!unexpected error)[^\n]+\n$/);
});
