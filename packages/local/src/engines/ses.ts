import type { Server } from 'node:http';
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
}

export interface SesLocal {
  /** `http://<host>:<port>`: the SES API for the SDK's `endpoint`, the inbox UI at `/`, `GET /store`. */
  endpoint: string;
  server: Server;
  /** Closes the server and its keep-alive sockets. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the SES-compatible server from `aws-ses-v2-local` in this process. It keeps received emails in
 * memory, in one store per Node process (shared by every server started in that process).
 */
export async function startSesLocal({ port, host = '127.0.0.1', portEnvVar }: SesLocalOptions): Promise<SesLocal> {
  await assertPortFree(port, portEnvVar, host);
  // On a listen error express calls back with the error, so the promise resolves with a server that is not listening.
  const server = await startSesServer({ host, port });
  if (!server.listening) {
    server.close();
    if (!(await isPortFree(port, host))) throw portInUseError(port, portEnvVar);
    throw new EngineError(`The local SES server could not listen on ${host}:${port}.`);
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections?.();
    }));
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { endpoint: `http://${urlHost}:${port}`, server, stop };
}

