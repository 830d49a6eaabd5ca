// The local SES server on a worker thread of its own (`startSesLocal({ ownThread: true })`): plain
// JavaScript, so it loads the same under node, tsx and vitest. It answers the port's outcome once,
// then closes when told to.
import { parentPort, workerData } from 'node:worker_threads';
import sesServerImport from 'aws-ses-v2-local';

const startSesServer = typeof sesServerImport === 'function' ? sesServerImport : sesServerImport.default;
const server = await startSesServer({ host: workerData.host, port: workerData.port });
parentPort.postMessage({ listening: server.listening });
if (!server.listening) server.close();
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  server.close(() => parentPort.close());
  server.closeAllConnections?.();
});
