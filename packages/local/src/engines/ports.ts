import { createServer } from 'node:net';
import { portInUseError } from './errors';

/** Resolves true when nothing listens on `host:port` (we could bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** Throws the "Port N is already in use (set ENV to another port)." EngineError when the port is taken. */
export async function assertPortFree(port: number, envVar?: string, host = '127.0.0.1'): Promise<void> {
  if (!(await isPortFree(port, host))) throw portInUseError(port, envVar);
}

/** A port the OS reports free right now (listen on port 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen({ port: 0, host, exclusive: true }, () => {
      const address = probe.address();
      if (address === null || typeof address === 'string') {
        probe.close(() => reject(new Error('The OS did not report a port')));
        return;
      }
      probe.close(() => resolve(address.port));
    });
  });
}
