import type { Device } from '../../native-models/onnx/device.ts';
import { CliError } from '../errors.ts';
import { loadLocalModel } from '../model/load-model.ts';
import type { KimiVLLocalModel } from '../../native-models/models/kimi-vl/local-model.ts';
import { HttpError } from './chat-request.ts';
import { startServer, type ChatModel } from './server.ts';

export interface ServeCommandOptions {
  readonly modelDir: string;
  readonly host: string;
  readonly port: number;
  readonly modelName: string;
  readonly allowRemote?: boolean;
  readonly device?: Device;
}

/** 127.0.0.0/8, ::1 and localhost: reachable only from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** `kestrel serve`: listens, loads the model, and serves until SIGINT/SIGTERM. */
export async function serveCommand(opts: ServeCommandOptions): Promise<void> {
  if (!isLoopback(opts.host)) {
    if (!opts.allowRemote) {
      throw new CliError(`--host ${opts.host} would expose the model (and your screenshots) to the network; add --allow-remote if you mean it, or leave --host at 127.0.0.1`, 2);
    }
    process.stderr.write(`kestrel serve: warning: listening on ${opts.host} without authentication; anyone who can reach this address can use the model\n`);
  }
  // The port first: a busy one is one line now, not after minutes of loading. Until the model is
  // ready, chat requests get a 503 with Retry-After (clients such as Kestrel's retry on it).
  let model: KimiVLLocalModel | undefined;
  const loading: ChatModel = {
    generate(request) {
      if (!model) throw new HttpError(503, 'the model is still loading; try again in a few seconds', 'server_error', undefined, 5);
      return model.generate(request);
    },
  };
  let running;
  try {
    running = await startServer({ model: loading, modelName: opts.modelName, host: opts.host, port: opts.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot listen on ${opts.host}:${opts.port} (${code ?? (err as Error).message})${code === 'EADDRINUSE' ? '; pick another --port' : ''}`);
  }
  try {
    model = await loadLocalModel(opts.modelDir, opts.device ?? 'auto');
  } catch (err) {
    await running.close();
    throw err;
  }
  process.stdout.write(`Kestrel serve: ${running.baseUrl} (model ${opts.modelName})\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await running.close();
  await model.release();
}
