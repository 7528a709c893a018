import { join } from 'node:path';
import type { HostOptions } from '../../host/host.ts';
import { NO_SECRET_BOX } from '../../host/secrets.ts';

const refuse = () => Promise.reject(new Error('not used in this test'));

/**
 * Options for a browser host in `dir` whose every seam (desktop, runner, grounder, importer,
 * trajectories) refuses; a test passes the seams it uses in `overrides`.
 */
export function testHostOptions(dir: string, overrides: Partial<HostOptions> = {}): HostOptions {
  return {
    host: 'browser',
    version: 'test',
    settingsFile: join(dir, 'settings.json'),
    dataDir: dir,
    secretBox: NO_SECRET_BOX,
    env: {},
    importer: { manifestFile: 'kestrel-model.json', run: refuse },
    desktop: () => ({ displays: async () => [], screenshot: refuse, execute: refuse }),
    runner: () => refuse,
    ground: () => refuse,
    trajectories: { list: async () => [], open: refuse, screenshot: refuse },
    modelName: () => 'none',
    ...overrides,
  };
}
