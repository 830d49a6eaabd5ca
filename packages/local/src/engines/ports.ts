import { createServer } from 'node:net';
import { EngineError, portInUseError } from './errors';

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

/**
 * Checks every port before anything starts, so one message lists all the taken ones (with the
 * setting that moves each) instead of one per attempt.
 */
export async function assertPortsFree(ports: readonly { port: number; envVar: string }[], host = '127.0.0.1'): Promise<void> {
  const free = await Promise.all(ports.map(({ port }) => isPortFree(port, host)));
  const taken = ports.filter((_, i) => !free[i]);
  if (taken.length === 1) throw portInUseError(taken[0]!.port, taken[0]!.envVar);
  if (taken.length > 1) {
    const list = taken.map(({ port, envVar }) => `${port} (${envVar})`);
    throw new EngineError(`Ports ${list.slice(0, -1).join(', ')} and ${list.at(-1)} are already in use; set those variables to other ports.`);
  }
}

/** A port the OS reports free right now (listen on port 0, read it, close). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port!;
}

/**
 * `count` distinct ports the OS reports free right now: each probe stays bound until all are, since
 * a port closed at once may be handed out again by the next call (two servers given one port).
 */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const probes = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      probes.map(
        (probe) =>
          new Promise<number>((resolve, reject) => {
            probe.unref();
            probe.once('error', reject);
            probe.listen({ port: 0, host, exclusive: true }, () => {
              const address = probe.address();
              if (address === null || typeof address === 'string') reject(new Error('The OS did not report a port'));
              else resolve(address.port);
            });
          }),
      ),
    );
  } finally {
    await Promise.all(probes.map((probe) => new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()))));
  }
}

/** The three ports of a local system (API, DynamoDB Local, SES), distinct and free right now. */
export async function systemPorts(host = '127.0.0.1'): Promise<{ port: number; dynamoDbPort: number; sesPort: number }> {
  const [port, dynamoDbPort, sesPort] = await freePorts(3, host);
  return { port: port!, dynamoDbPort: dynamoDbPort!, sesPort: sesPort! };
}
