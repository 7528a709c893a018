import { describe, expect, test } from 'vitest';
import { ROUTE_NAMES, validateCall } from './routes.ts';
import { InvalidInput } from './validate.ts';

const png = new Uint8Array([137, 80, 78, 71]);

describe('route input validation', () => {
  test.each([
    ['no.such.route', undefined, /unknown route "no.such.route"/],
    [42, undefined, /unknown route "42"/],
    ['__proto__', undefined, /unknown route/],
    ['run.start', undefined, /^the input must be an object, got undefined$/],
    ['run.start', { instruction: '' }, /^instruction must be an instruction of 1–4000 characters, got ""$/],
    ['run.start', { instruction: 'x'.repeat(4001) }, /^instruction must be .*got a string of 4001 characters/],
    ['run.start', { instruction: 'ok', maxSteps: 0 }, /^maxSteps must be a whole number from 1 to 500, got 0/],
    ['run.start', { instruction: 'ok', maxSteps: 2.5 }, /maxSteps must be a whole number/],
    ['run.start', { instruction: 'ok', confirmEachAction: 'yes' }, /confirmEachAction must be true or false, got "yes"/],
    ['run.start', { instruction: 'ok', shell: 'rm -rf /' }, /^the input has an unknown field "shell"/],
    ['run.start', { instruction: 'a\0b' }, /instruction must be/],
    ['run.start', ['ok'], /must be an object, got an array of 1/],
    ['run.stop', { force: true }, /^the input must be empty \(this route takes no input\)/],
    ['run.confirm', { approve: 1 }, /^approve must be true or false, got 1/],
    ['ground.image', { png: 'iVBORw0KGgo=', query: 'Save' }, /^png must be image bytes/],
    ['ground.image', { png: new Uint8Array(0), query: 'Save' }, /png must be image bytes .*got 0 bytes/],
    ['ground.image', { png, query: '' }, /^query must be a description of what to find/],
    ['settings.update', { maxSteps: -3 }, /^Max steps must be a whole number from 1 to 500, got -3$/],
    ['settings.update', { temperature: Number.NaN }, /^Temperature must be a number from 0 to 2, got NaN$/],
    ['settings.update', { backend: 'python' }, /^Backend must be one of "in-process", "endpoint", got "python"$/],
    ['settings.update', { endpointUrl: 'file:///etc/passwd' }, /^Endpoint URL must be an http:\/\/ or https:\/\/ URL/],
    ['settings.update', { apiKeyEnv: 'A B' }, /^API key environment variable must be an environment variable name/],
    ['settings.update', { stopHotkey: 'Escape' }, /^Emergency-stop shortcut must be a key combination such as "CommandOrControl\+Shift\+Escape", got "Escape"$/],
    ['settings.update', { apiKey: 'sk-1' }, /^there is no setting "apiKey"; the settings are backend, /],
    ['settings.update', { modelsDir: '../../' }, /^Models folder must be an absolute folder path \(such as \/home\/me\/kestrel\), or empty for the default, got "..\/..\/"$/],
    ['settings.update', { trajectoriesDir: 'runs' }, /^Trajectories folder must be an absolute folder path/],
    ['settings.update', { modelDir: './kimi' }, /^Model folder must be an absolute folder path .*, or empty for none, got ".\/kimi"$/],
    ['settings.update', ['x'], /^the input must be an object of settings, got an array of 1$/],
    ['trajectories.open', { path: '' }, /^path must be a file or folder path, got ""$/],
    ['trajectories.screenshot', { path: '/r', step: -1 }, /step must be a whole number from 0/],
    ['displays.screenshot', {}, /^displayId must be a string/],
    ['models.import', { source: '/hf/kimi', name: 'kimi', precision: 'int8' }, /^precision must be one of "auto", "int4", "fp16", "fp32", got "int8"$/],
    ['models.import', { source: '/hf/kimi', name: 'kimi', precision: 4 }, /^precision must be one of .*, got 4$/],
    ['models.import', { source: '/hf/kimi', name: 'kimi', device: 'cuda' }, /^the input has an unknown field "device"/],
    ['models.import', { source: '/hf/kimi', name: 'kimi', hashSource: 'yes' }, /^hashSource must be/],
    ['models.bench', { path: '/models/kimi', repetitions: 11 }, /^repetitions must be a whole number from 1 to 10, got 11$/],
    ['models.bench', { path: '/models/kimi', device: 'tpu' }, /^device must be one of "auto", "cpu", "cuda", "webgpu", got "tpu"$/],
    ['models.bench', { device: 'cpu' }, /^path must be a file or folder path/],
  ])('%s %j is refused', (route, input, message) => {
    expect(() => validateCall(route, input)).toThrow(InvalidInput);
    expect(() => validateCall(route, input)).toThrow(message);
  });

  test('good inputs pass through, without fields that were not given', () => {
    expect(validateCall('run.start', { instruction: 'open the terminal', maxSteps: 3 }).input).toEqual({
      instruction: 'open the terminal',
      maxSteps: 3,
    });
    expect(validateCall('settings.update', { stopHotkey: 'CommandOrControl+Shift+Escape', temperature: 0.7 }).input).toEqual({
      stopHotkey: 'CommandOrControl+Shift+Escape',
      temperature: 0.7,
    });
    expect(validateCall<'ground.image'>('ground.image', { png, query: 'the Save button' }).input.png).toBe(png);
    for (const precision of ['auto', 'int4', 'fp16', 'fp32']) {
      expect(validateCall('models.import', { source: '/hf/kimi', name: 'kimi', precision }).input).toEqual({ source: '/hf/kimi', name: 'kimi', precision });
    }
    expect(validateCall('models.import', { source: '/hf/kimi', name: 'kimi' }).input).toEqual({ source: '/hf/kimi', name: 'kimi' });
    expect(validateCall('models.import', { source: '/hf/kimi', name: 'kimi', hashSource: true }).input).toEqual({ source: '/hf/kimi', name: 'kimi', hashSource: true });
    expect(validateCall('run.stop', undefined).input).toBeUndefined();
    expect(validateCall('run.stop', {}).input).toBeUndefined();
  });

  test('folder settings take absolute paths (POSIX, Windows, UNC) or empty for the default', () => {
    for (const dir of ['', '/home/me/models', 'C:\\Users\\me\\models', 'D:/models', '\\\\server\\share\\models']) {
      expect(validateCall('settings.update', { modelsDir: dir, trajectoriesDir: dir, modelDir: dir }).input).toEqual({ modelsDir: dir, trajectoriesDir: dir, modelDir: dir });
    }
  });

  test('no message names the route that carried the input (people read them in the UI)', () => {
    const bad: [string, unknown][] = [
      ['run.start', { instruction: '' }],
      ['settings.update', { stopHotkey: 'Escape' }],
      ['models.import', { source: '/x', name: '../x' }],
      ['trajectories.reground', { path: '/r', step: 1, query: '' }],
      ['screenspot.image', { results: '/a', images: '/b', index: -1 }],
    ];
    for (const [route, input] of bad) {
      const message = (() => {
        try {
          validateCall(route, input);
          return '';
        } catch (err) {
          return (err as Error).message;
        }
      })();
      expect(message).not.toBe('');
      for (const name of ROUTE_NAMES) expect(message).not.toContain(name);
    }
  });

  test('every route has a validator', () => {
    expect(ROUTE_NAMES.length).toBeGreaterThanOrEqual(17);
    for (const name of ROUTE_NAMES) expect(() => validateCall(name, Symbol('bad'))).toThrow(InvalidInput);
  });
});
