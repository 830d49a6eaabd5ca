import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { ensureTable, loadConfig, recoverSends, runScheduledJobs, runSummaries, type Config } from '@rapport/core';
import { createApp, createDeps, inProcessSendQueue, startInProcessScheduler } from '@rapport/functions';
import { startDynamoDbLocal } from './engines/dynamodb';
import { EngineError, portInUseError } from './engines/errors';
import type { JavaOptions } from './engines/java';
import { assertPortsFree, isPortFree } from './engines/ports';
import { startSesLocal } from './engines/ses';
import { webhookStreamReader } from './webhook-stream';
import { runningInstance, writeInstanceFile } from './instance';

export interface LocalSystemOptions {
  /** HTTP port of the app (setting `PORT`). */
  port: number;
  /** DynamoDB Local's port (setting `DYNAMODB_PORT`). */
  dynamoDbPort: number;
  /** The SES server's port (setting `SES_PORT`). */
  sesPort: number;
  /**
   * An SES server running already (setting `SES_ENDPOINT`): used instead of starting one on
   * `sesPort`, and left running at stop.
   */
  sesEndpoint?: string;
  /** Absolute folder for persisted data; DynamoDB Local keeps its file in `<dataDir>/dynamodb`. Undefined = in memory. */
  dataDir?: string;
  /**
   * Absolute folder of the state file (`instance.json`) that tells the CLIs how to reach this
   * instance; default `dataDir`. `npm start` gives its DATA_DIR even when in memory, so the CLIs
   * find an in-memory instance where they would find any other. Undefined with no `dataDir`: no file.
   */
  stateDir?: string;
  /** Source of the remaining configuration (TABLE_NAME, AWS_REGION, PUBLIC_URL, MAIL_FROM). Default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * How often the scheduled job (reminders due, rounds to close) runs in process, in
   * milliseconds (setting `JOBS_INTERVAL_SECONDS`). Default one minute.
   */
  jobsIntervalMs?: number;
  /** Called at most once if DynamoDB Local dies while the system runs (never during `stop()`). */
  onFailure?: (error: EngineError) => void;
  /** Which Java runs DynamoDB Local, and with `fullJit` its optimising compiler (see startDynamoDbLocal). */
  java?: JavaOptions & { fullJit?: boolean };
  /**
   * Runs once the table is ready and before the in-process jobs start (`npm start -- --demo`
   * seeds here): writes on a moved clock cannot race the scheduled job closing past rounds.
   */
  beforeJobs?: (config: Config) => Promise<void>;
}

export interface LocalSystem {
  config: Config;
  urls: {
    /** The app; also the default PUBLIC_URL. */
    api: string;
    docs: string;
    openapi: string;
    /** The SES server's inbox UI. */
    inbox: string;
    /** DYNAMODB_ENDPOINT for other processes (e.g. `npm run admin`). */
    dynamodb: string;
    /** SES_ENDPOINT for other processes. */
    ses: string;
  };
  /** Where the data persists, or undefined when in memory. */
  dataDir: string | undefined;
  /** What `ensureTable` did at start. */
  table: 'created' | 'migrated' | 'unchanged';
  /** DynamoDB Local's Java process. */
  dynamoDbPid: number;
  /**
   * Stops the HTTP server, the scheduler, the sender (emails being sent finish; queued ones stay
   * `pending`), DynamoDB Local and the SES server (unless `sesEndpoint` named one), in that order.
   * Safe to call twice.
   */
  stop(): Promise<void>;
}

/** The secret a data folder keeps for signing links, if it has one yet. */
function storedLinkSecret(dataDir: string): string | undefined {
  const file = join(dataDir, 'link-secret');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/**
 * The secret that signs survey links: kept under the data folder so links in sent emails keep
 * working after a restart; a fresh one per run when in memory. The CLIs read it from the state file.
 */
function localLinkSecret(dataDir: string | undefined): string {
  if (!dataDir) return randomBytes(32).toString('base64url');
  const stored = storedLinkSecret(dataDir);
  if (stored) return stored;
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(join(dataDir, 'link-secret'), secret, { mode: 0o600 });
  return secret;
}

/**
 * Brings up the whole system on this machine: DynamoDB Local, the SES server, the table, the
 * in-process services and the Hono app on Node. If any step fails, whatever had started is stopped
 * again and the error (an EngineError or ConfigError with one sentence, as a rule) is rethrown.
 */
export async function startLocalSystem(options: LocalSystemOptions): Promise<LocalSystem> {
  const { port, dynamoDbPort, sesPort, sesEndpoint, dataDir, stateDir = dataDir, env = process.env, jobsIntervalMs = 60_000, onFailure, java, beforeJobs } = options;
  const api = `http://localhost:${port}`;
  const config = loadConfig({
    ...env,
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoDbPort}`,
    SES_ENDPOINT: sesEndpoint ?? `http://127.0.0.1:${sesPort}`,
    PUBLIC_URL: env.PUBLIC_URL || api,
    LINK_SECRET: env.LINK_SECRET || localLinkSecret(dataDir),
    // Local receivers (`http://127.0.0.1:<port>`) are what webhooks are tried against here.
    WEBHOOKS_ALLOW_LOOPBACK: env.WEBHOOKS_ALLOW_LOOPBACK || 'true',
    // Anyone at this machine may start an agency at /signup: no CLI step before the console.
    SIGNUP: env.SIGNUP || 'open',
  });
  // Fail before the slow part, with everything that stands in the way at once.
  const other = stateDir === undefined ? undefined : runningInstance(stateDir);
  // Its pid alive and its port taken: after a crash the pid alone may have gone to another process.
  if (other && !(await isPortFree(other.ports.api))) {
    throw new EngineError(`Rapport is already running for ${stateDir} (pid ${other.pid}, ${other.endpoints.api}); stop it first, or set DATA_DIR to another folder to run a second one.`);
  }
  await assertPortsFree([
    { port, envVar: 'PORT' },
    ...(sesEndpoint ? [] : [{ port: sesPort, envVar: 'SES_PORT' }]),
    { port: dynamoDbPort, envVar: 'DYNAMODB_PORT' },
  ]);

  // Undo steps for whatever has started, run in reverse by stop() or on a failed start.
  const undo: Array<() => Promise<void>> = [];
  let stopping = false;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      let firstError: unknown;
      for (const step of undo.reverse()) {
        try {
          await step();
        } catch (error) {
          firstError ??= error;
        }
      }
      if (firstError !== undefined) throw firstError;
    })());

  try {
    // At `http://127.0.0.1:<sesPort>`, the config's SES_ENDPOINT, unless one was given.
    if (!sesEndpoint) undo.push((await startSesLocal({ port: sesPort, portEnvVar: 'SES_PORT', ownThread: true })).stop);

    const dynamo = await startDynamoDbLocal({
      port: dynamoDbPort,
      portEnvVar: 'DYNAMODB_PORT',
      ...(dataDir !== undefined ? { dataDir: join(dataDir, 'dynamodb') } : {}),
      ...java,
    });
    undo.push(dynamo.stop);
    void dynamo.exited.then(({ code, signal }) => {
      if (stopping) return;
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      onFailure?.(new EngineError(`DynamoDB Local stopped unexpectedly (${how}).`));
    });

    // On AWS, SQS feeds the sender and a schedule runs the job; here both run in this process.
    const queue = inProcessSendQueue(() => deps, { ratePerSecond: config.sendRatePerSecond });
    const deps = createDeps(config, { queue });
    undo.push(async () => deps.db.client.destroy());
    const table = await ensureTable(deps.db.client, config.table, { stream: true });
    undo.push(queue.stop);
    // The queue and the sends of a previous run died with it: every lease is over now. What it
    // held goes out at once, and what it was sending is settled from the SES server's store
    // (the SES server started here begins empty, so those are sent again, once; one given by
    // SES_ENDPOINT remembers what it took).
    await recoverSends(deps, deps.now(), { leasesBefore: new Date('9999-01-01T00:00:00Z') });
    await beforeJobs?.(config);
    const scheduler = startInProcessScheduler('scheduled job', () => runScheduledJobs(deps, deps.now(), jobsIntervalMs), jobsIntervalMs);
    undo.push(scheduler.stop);
    // New webhook events go out from the table's stream, as on AWS, within half a second.
    const stream = webhookStreamReader({ db: deps.db, queue, config, now: deps.now });
    const streamReads = startInProcessScheduler('webhook stream', stream.read, 500);
    undo.push(async () => {
      await streamReads.stop();
      stream.close();
    });
    // Hourly, like the cron on AWS: each agency's slot is an hour in its own time zone.
    const summaries = startInProcessScheduler('summary job', () => runSummaries(deps, deps.now()), 3_600_000);
    undo.push(summaries.stop);

    const server = createAdaptorServer({ fetch: createApp(deps).fetch }) as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? portInUseError(port, 'PORT') : error),
      );
      // Loopback only, like the engines: the local runner has demo keys and no TLS.
      server.listen(port, '127.0.0.1', () => resolve());
    });
    undo.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    if (stateDir !== undefined) {
      const removeStateFile = writeInstanceFile(stateDir, {
        pid: process.pid,
        startedAt: new Date().toISOString(),
        dataDir: dataDir ?? null,
        table: config.table,
        region: config.region,
        publicUrl: config.publicUrl,
        mailFrom: config.mailFrom,
        linkSecret: config.linkSecret!,
        endpoints: { api, dynamodb: dynamo.endpoint, ses: config.sesEndpoint! },
        ports: { api: port, dynamodb: dynamoDbPort, ses: Number(new URL(config.sesEndpoint!).port || 80) },
      });
      undo.push(async () => removeStateFile());
    }

    return {
      config,
      urls: {
        api,
        docs: `${api}/docs`,
        openapi: `${api}/openapi.json`,
        inbox: `${config.sesEndpoint}/`,
        dynamodb: dynamo.endpoint,
        ses: config.sesEndpoint!,
      },
      dataDir,
      table,
      dynamoDbPid: dynamo.pid,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
