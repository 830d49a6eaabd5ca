import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { createDb, createSesMailer, ensureTable } from '@rapport/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from './dynamodb';
import { EngineError } from './errors';
import { checkJava, parseJavaMajorVersion } from './java';
import { freePort, freePorts, isPortFree } from './ports';
import { startSesLocal } from './ses';

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('port checks', () => {
  let blocker: Server;
  let taken: number;
  beforeAll(async () => {
    taken = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('refuses a taken port for DynamoDB Local with one sentence naming the setting', async () => {
    const start = startDynamoDbLocal({ port: taken, portEnvVar: 'DYNAMODB_PORT' });
    await expect(start).rejects.toBeInstanceOf(EngineError);
    await expect(start).rejects.toThrow(`Port ${taken} is already in use (set DYNAMODB_PORT to another port).`);
  });

  it('refuses a taken port for the SES server', async () => {
    await expect(startSesLocal({ port: taken, portEnvVar: 'SES_PORT' })).rejects.toThrow(
      `Port ${taken} is already in use (set SES_PORT to another port).`,
    );
  });

  // One at a time, the OS may hand a port just closed out again: two servers of one system on one port.
  it('gives distinct ports, each free once given', async () => {
    const ports = await freePorts(64);
    expect(new Set(ports).size).toBe(64);
    expect(await Promise.all(ports.map((port) => isPortFree(port)))).toEqual(ports.map(() => true));
  });
});

describe('Java check', () => {
  const needJava =
    'Java 17 or newer is needed to run DynamoDB Local; install it (e.g. apt-get install openjdk-17-jre-headless) and try again.';
  let bin: string;
  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), 'rapport-java-'));
  });
  afterAll(() => rm(bin, { recursive: true, force: true }));

  it('reads major versions in both numbering schemes', () => {
    expect(parseJavaMajorVersion('openjdk version "17.0.15" 2025-04-15')).toBe(17);
    expect(parseJavaMajorVersion('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaMajorVersion('openjdk version "21-ea" 2023-09-19')).toBe(21);
    expect(parseJavaMajorVersion('no version here')).toBeUndefined();
  });

  it('accepts the installed Java', async () => {
    expect(await checkJava()).toBeGreaterThanOrEqual(17);
  });

  it('explains a missing Java in one sentence, before touching the port', async () => {
    const env = { ...process.env, PATH: bin };
    await expect(checkJava({ env })).rejects.toThrow(needJava);
    await expect(startDynamoDbLocal({ port: await freePort(), env })).rejects.toThrow(new EngineError(needJava));
  });

  it('explains a Java that is too old', async () => {
    await writeFile(join(bin, 'java'), '#!/bin/sh\necho \'java version "1.8.0_392"\' >&2\n');
    await chmod(join(bin, 'java'), 0o755);
    await expect(checkJava({ env: { ...process.env, PATH: bin } })).rejects.toThrow(
      'Java 17 or newer is needed to run DynamoDB Local, but `java` is Java 8; install it (e.g. apt-get install openjdk-17-jre-headless) and try again.',
    );
  });
});

describe('DynamoDB Local', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'rapport-data-')), 'nested', 'dynamodb');
  });
  afterAll(() => rm(join(dataDir, '..', '..'), { recursive: true, force: true }));

  it('keeps data in dataDir across a restart and leaves no process behind', async () => {
    const port = await freePort();
    const key = { PK: { S: 'AG#persist' }, SK: { S: 'AG' } };

    const first = await startDynamoDbLocal({ port, dataDir });
    const db = createDb({ region: 'eu-west-1', endpoint: first.endpoint, table: 'persist-test' });
    try {
      await ensureTable(db.client, db.table);
      await db.client.send(new PutItemCommand({ TableName: db.table, Item: { ...key, name: { S: 'Acme PR' } } }));
    } finally {
      db.client.destroy();
      await first.stop();
    }
    expect(isAlive(first.pid)).toBe(false);
    expect(await isPortFree(port)).toBe(true);

    const second = await startDynamoDbLocal({ port, dataDir });
    // Another region and another key: with a shared database neither changes what we see.
    const db2 = createDb({ region: 'us-west-2', endpoint: second.endpoint, table: 'persist-test' });
    try {
      const { Item } = await db2.client.send(new GetItemCommand({ TableName: db2.table, Key: key }));
      expect(Item?.name).toEqual({ S: 'Acme PR' });
      expect(await ensureTable(db2.client, db2.table)).toBe('unchanged');
    } finally {
      db2.client.destroy();
      await second.stop();
      await second.stop(); // twice is harmless
    }
    expect(isAlive(second.pid)).toBe(false);
  }, 60_000); // two Java starts, about 1.9 s of CPU each (5.2 s before JVM_OPTIONS and compiledLauncher): 5–10 s on a busy 2-core machine

  // Needs an address other than loopback to try; a machine without one has nothing to expose.
  it.skipIf(!externalAddress())('listens on 127.0.0.1 only: the machine\'s other addresses refuse the connection', async () => {
    const port = await freePort();
    const dynamo = await startDynamoDbLocal({ port });
    try {
      expect(await connects('127.0.0.1', port)).toBe(true);
      expect(await connects(externalAddress()!, port)).toBe(false);
    } finally {
      await dynamo.stop();
    }
  }, 60_000);
});

/** An IPv4 address of this machine that is not loopback, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** Whether a TCP connection to host:port is accepted (closed again at once). */
const connects = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.once('connect', () => done(true)).once('error', () => done(false));
    socket.setTimeout(2000, () => done(false));
  });

describe('SES server', () => {
  it('serves the inbox UI and the store, and frees its port on stop', async () => {
    const port = await freePort();
    const ses = await startSesLocal({ port });
    try {
      expect((await fetch(`${ses.endpoint}/`)).status).toBe(200);
      const store = (await (await fetch(`${ses.endpoint}/store`)).json()) as { emails: unknown[] };
      expect(Array.isArray(store.emails)).toBe(true);
    } finally {
      await ses.stop();
    }
    expect(await isPortFree(port)).toBe(true);
  });

  it('on a thread of its own: takes an email over the SES API, lists it in its own store, and frees its port on stop', async () => {
    const port = await freePort();
    const ses = await startSesLocal({ port, ownThread: true });
    expect(ses.server).toBeUndefined();
    const mailer = createSesMailer({ region: 'us-east-1', endpoint: ses.endpoint });
    try {
      await mailer.send({ from: { address: 'rapport@example.com' }, to: { address: 'thread@x.example' }, subject: 'On its thread', text: 'Hello', html: '<p>Hello</p>' });
      const { emails } = (await (await fetch(`${ses.endpoint}/store`)).json()) as { emails: { subject: string; destination: { to: string[] } }[] };
      expect(emails.map((e) => [e.subject, e.destination.to])).toEqual([['On its thread', ['thread@x.example']]]);
    } finally {
      mailer.client.destroy();
      await ses.stop();
    }
    expect(await isPortFree(port)).toBe(true);
    await expect(ses.stop()).resolves.toBeUndefined();
  });
});
