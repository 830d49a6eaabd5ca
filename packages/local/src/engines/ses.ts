import type { Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import sesServerImport from 'aws-ses-v2-local';
import { EngineError, portInUseError } from './errors';
import { assertPortFree, isPortFree } from './ports';

type StartSesServer = typeof sesServerImport;
// The package is CommonJS with `exports.default`; Node's ESM loader hands us `module.exports` instead.
const startSesServer: StartSesServer =
  typeof sesServerImport === 'function'
    ? sesServerImport
    : (sesServerImport as unknown as { default: StartSesServer }).default;

export interface SesLocalOptions {
  port: number;
  host?: string;
  /** The setting that moves the port, named in the "port in use" sentence (e.g. `SES_PORT`). */
  portEnvVar?: string;
  /**
   * Runs the server on a worker thread of its own, with a store of its own: its work on every email
   * (parsing it for the inbox) then takes nothing from this process's thread, as SES takes nothing
   * from a Lambda's. The local runner does; tests that reach into the server keep it here.
   */
  ownThread?: boolean;
}

export interface SesLocal {
  /** `http://<host>:<port>`: the SES API for the SDK's `endpoint`, the inbox UI at `/`, `GET /store`. */
  endpoint: string;
  /** The server, when it runs on this thread. */
  server: Server | undefined;
  /** Closes the server and its keep-alive sockets. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the SES-compatible server from `aws-ses-v2-local`, in this process or on a thread of its own.
 * It keeps received emails in memory, in one store per thread (shared by every server started on
 * this one).
 */
export async function startSesLocal({ port, host = '127.0.0.1', portEnvVar, ownThread = false }: SesLocalOptions): Promise<SesLocal> {
  await assertPortFree(port, portEnvVar, host);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const notListening = async () => {
    if (!(await isPortFree(port, host))) throw portInUseError(port, portEnvVar);
    throw new EngineError(`The local SES server could not listen on ${host}:${port}.`);
  };
  if (ownThread) {
    const worker = new Worker(new URL('./ses-thread.mjs', import.meta.url), { workerData: { host, port } });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const started = await new Promise<{ listening: boolean } | Error>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', resolve);
    });
    if (started instanceof Error || !started.listening) {
      await worker.terminate();
      if (started instanceof Error) throw new EngineError(`The local SES server could not start: ${started.message}`);
      return notListening();
    }
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        worker.postMessage('stop');
        // Closed, or gone within a moment (keep-alive sockets aside): never left running.
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000).unref())]);
        await worker.terminate();
      })();
      return stopping;
    };
    return { endpoint: `http://${urlHost}:${port}`, server: undefined, stop };
  }
  // On a listen error express calls back with the error, so the promise resolves with a server that is not listening.
  const server = await startSesServer({ host, port });
  if (!server.listening) {
    server.close();
    return notListening();
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    }));
  return { endpoint: `http://${urlHost}:${port}`, server, stop };
}

