import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { envVar } from '../agent/index.ts';
import { makeFolder, writeFileAtomic } from '../shared/files.ts';
import type { SecretBox } from './secrets.ts';
import { settingsFromStored, type Settings } from './settings.ts';
import type { PublicSettings } from './types.ts';
import { KestrelError } from '../shared/errors.ts';

interface StoredFile extends Partial<Settings> {
  /** The endpoint API key, sealed by the SecretBox (base64); absent without a keychain. */
  readonly sealedApiKey?: string;
}

export class ApiKeyNotStorable extends KestrelError {
  override readonly name = 'ApiKeyNotStorable';
}

/**
 * Settings on disk, one JSON file replaced atomically on every change, writes queued so two
 * updates never interleave. A file that cannot be read falls back to the defaults and says why.
 *
 * Values given on the command line (`kestrel ui --endpoint … --model …`) apply to this session
 * only: they are laid over the saved settings and never written, so they do not outlive the
 * server they name. Saving a field in Settings replaces its command-line value and saves it.
 */
export class SettingsStore {
  private writing: Promise<void> = Promise.resolve();
  private session: Partial<Settings> = {};
  private current: Settings;

  private constructor(
    readonly file: string,
    private readonly box: SecretBox,
    private readonly env: NodeJS.ProcessEnv,
    private saved: Settings,
    private sealedApiKey: string | undefined,
    readonly problems: readonly string[],
  ) {
    this.current = saved;
  }

  static async open(file: string, box: SecretBox, env: NodeJS.ProcessEnv = process.env): Promise<SettingsStore> {
    let stored: StoredFile = {};
    const problems: string[] = [];
    try {
      stored = JSON.parse(await readFile(file, 'utf8')) as StoredFile;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') problems.push(`${file} could not be read (${(err as Error).message}); using defaults`);
    }
    await removeStaleTemps(file);
    const { settings, problems: fieldProblems } = settingsFromStored(stored);
    const sealed = typeof stored.sealedApiKey === 'string' ? stored.sealedApiKey : undefined;
    return new SettingsStore(file, box, env, settings, sealed, [...problems, ...fieldProblems]);
  }

  /** The settings in effect: the saved ones with this session's command-line values over them. */
  get(): Settings {
    return this.current;
  }

  /** Lays command-line values over the saved settings for this session; they are never written. */
  setSessionValues(values: Partial<Settings>): void {
    this.session = { ...values };
    this.current = { ...this.saved, ...this.session };
  }

  /** What the UI may see: the settings, which of them are this session's, where the key comes from; never the key. */
  view(): Omit<PublicSettings, 'folders'> {
    const fromEnv = Boolean(envVar(this.env, this.current.apiKeyEnv));
    return {
      settings: this.current,
      saved: this.saved,
      // Only where the command line changed something: the same value as saved needs no note.
      sessionOnly: (Object.keys(this.session) as (keyof Settings)[]).filter((key) => this.session[key] !== this.saved[key]),
      apiKey: this.sealedApiKey && this.box.isAvailable() ? 'stored' : fromEnv ? 'environment' : 'none',
      canStoreApiKey: this.box.isAvailable(),
    };
  }

  /** Saves `patch`; a field saved here no longer takes its value from the command line. */
  async update(patch: Partial<Settings>): Promise<Settings> {
    this.saved = { ...this.saved, ...patch };
    const session: Partial<Settings> = { ...this.session };
    for (const key of Object.keys(patch) as (keyof Settings)[]) delete session[key];
    this.setSessionValues(session);
    await this.persist();
    return this.current;
  }

  /** Seals and stores the key, or removes it when `key` is empty. */
  async setApiKey(key: string): Promise<void> {
    if (key === '') {
      this.sealedApiKey = undefined;
    } else {
      if (!this.box.isAvailable()) {
        throw new ApiKeyNotStorable(
          `this host has no keychain to encrypt the API key; set it in the environment variable ${this.current.apiKeyEnv} instead (named in Settings)`,
        );
      }
      this.sealedApiKey = Buffer.from(this.box.encrypt(key)).toString('base64');
    }
    await this.persist();
  }

  /**
   * The key for the endpoint: the stored one when there is a keychain, else the environment
   * variable's (Settings' own, or `envName` when a form is testing another).
   */
  apiKey(envName: string = this.current.apiKeyEnv): string | undefined {
    if (this.sealedApiKey && this.box.isAvailable()) {
      return this.box.decrypt(Buffer.from(this.sealedApiKey, 'base64'));
    }
    return envVar(this.env, envName) || undefined;
  }

  /** Where apiKey() finds the key, said for messages; never the key. */
  apiKeySource(envName: string = this.current.apiKeyEnv): string {
    if (this.sealedApiKey && this.box.isAvailable()) return 'the key stored in Settings';
    return envVar(this.env, envName) ? `the environment variable ${envName}` : `no key: ${envName} is not set`;
  }

  private persist(): Promise<void> {
    const snapshot: StoredFile = { ...this.saved, sealedApiKey: this.sealedApiKey };
    const next = this.writing.then(async () => {
      await makeFolder(dirname(this.file));
      await writeFileAtomic(this.file, `${JSON.stringify(snapshot, null, 2)}\n`);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}

/** Temporary files left by a writer that died before its rename; they hold nothing we need. */
async function removeStaleTemps(file: string): Promise<void> {
  const dir = dirname(file);
  const prefix = `.${basename(file)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.filter((n) => n.startsWith(prefix) && n.endsWith('.tmp')).map((n) => rm(join(dir, n), { force: true })),
  );
}
