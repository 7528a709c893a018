/**
 * A variable of `env` by a name the user gave (a flag, a setting, a task file). Only the
 * environment's own keys count: `process.env.constructor` is Object's constructor, which would
 * otherwise pass as a "set" API key and be sent as one.
 */
export function envVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return Object.hasOwn(env, name) ? env[name] : undefined;
}
