import { ConfigError, createDb, createPacer, createSesMailer, deliver, inSlot, recordedSends, type Config, type Db, type DeliveryDeps, type DeliveryOutcome, type JobQueue, type Mailer, type Pacer, type SendJob, type SendRecords } from '@rapport/core';
import type { Context } from 'hono';
import { clientAddress } from './client-address';
import { createInProcessQueue, type InProcessQueue } from './adapters/in-process-queue';
import { sesStoreRecords } from './adapters/ses-store-records';
import { logger } from './logger';

/** What the handlers need, built once per process (Lambda container or local runner). */
export interface Deps {
  config: Config;
  db: Db;
  now: () => Date;
  /** Signs and checks the links in survey emails. */
  linkSecret: string;
  /** SES. Only send jobs call it, and whoever runs them keeps `SEND_RATE_PER_SECOND` (see `Pacer`). */
  mailer: Mailer;
  /** Where send jobs go: in process by default (paced to `SEND_RATE_PER_SECOND`); SQS on AWS. */
  queue: JobQueue;
  /** SES's record of the emails it took: its `Send` events on AWS, the local server's store locally. */
  records: SendRecords;
  /** The address a request came from (rate limits); tests set their own, since `app.request` has none. */
  clientAddress: (c: Context) => string;
}

export function createDeps(config: Config, overrides: Partial<Omit<Deps, 'config'>> = {}): Deps {
  const linkSecret = overrides.linkSecret ?? config.linkSecret;
  if (!linkSecret) throw new ConfigError('Invalid configuration: LINK_SECRET is required (at least 32 characters)');
  const db = overrides.db ?? createDb({ region: config.region, endpoint: config.dynamoEndpoint, table: config.table });
  const deps: Deps = {
    config,
    linkSecret,
    db,
    now: overrides.now ?? (() => new Date()),
    mailer: overrides.mailer ?? createSesMailer({ region: config.region, endpoint: config.sesEndpoint }),
    queue: overrides.queue ?? inProcessSendQueue(() => deps, { ratePerSecond: config.sendRatePerSecond }),
    records: overrides.records ?? (config.sesEndpoint ? sesStoreRecords(config.sesEndpoint, linkSecret) : recordedSends(db)),
    clientAddress: overrides.clientAddress ?? clientAddress,
  };
  return deps;
}

/**
 * Jobs the in-process sender runs at once for a sending rate: enough that jobs started at the rate,
 * each spending up to half a second on DynamoDB and SES, never wait for a free worker; never fewer
 * than 4, and no more than the SDK clients' sockets (50 each): more only queue inside the SDK.
 * The pacer, not this, keeps the rate.
 */
const MAX_SEND_CONCURRENCY = 50;

export const sendConcurrency = (ratePerSecond: number) => Math.max(4, Math.min(MAX_SEND_CONCURRENCY, Math.ceil(ratePerSecond / 2)));

export interface SendQueueOptions {
  /** The sending rate the queue keeps, SES calls a second; default the deps' `SEND_RATE_PER_SECOND`, read at the first job. */
  ratePerSecond?: number;
  /** Jobs at once; default `sendConcurrency(ratePerSecond)`, or 4 without a rate. */
  concurrency?: number;
}

/**
 * A queue whose jobs the send worker runs in this process, each once the pacer holds a slot for it
 * (a job that made no SES call gives it back). It reads the deps when a job runs, so it can be made
 * before them (they hold it). `observe` hears each job's outcome (`npm run job`).
 */
export function inProcessSendQueue(deps: () => Deps, { ratePerSecond, concurrency = ratePerSecond ? sendConcurrency(ratePerSecond) : 4 }: SendQueueOptions = {}, observe?: (job: SendJob, outcome: DeliveryOutcome) => void): InProcessQueue {
  let made: Pacer | undefined;
  const paced = () => (made ??= createPacer({ ratePerSecond: ratePerSecond ?? deps().config.sendRatePerSecond, burstMs: BURST_MS }));
  const pacer: Pacer = { take: () => paced().take(), promise: (ms) => paced().promise(ms), charge: () => paced().charge(), giveBack: () => paced().giveBack() };
  return createInProcessQueue(
    async (job) => {
      const worker = deliveryDeps(deps());
      const outcome = await inSlot(pacer, worker.mailer, (mailer) => deliver({ ...worker, mailer }, job));
      observe?.(job, outcome);
    },
    { concurrency, pacer },
  );
}

/**
 * How late a sending slot may be taken: at high rates a timer fires a few milliseconds late, and a
 * tenth of a second's worth of slots due at once makes up for it (SES allows short bursts).
 */
export const BURST_MS = 100;

/** The worker's view of the deps. */
export const deliveryDeps = (deps: Deps): DeliveryDeps => ({
  db: deps.db,
  mailer: deps.mailer,
  linkSecret: deps.linkSecret,
  publicUrl: deps.config.publicUrl,
  mailFrom: deps.config.mailFrom,
  now: deps.now,
  requeue: (job, delaySeconds) => deps.queue.enqueue([job], { delaySeconds }),
  warn: (message, fields) => logger.warn(message, fields),
  records: deps.records,
  webhooks: { allowLoopback: deps.config.webhooksAllowLoopback, retrySeconds: deps.config.webhookRetrySeconds },
});
