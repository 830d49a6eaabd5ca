import type { DeliveryDeps, DeliveryOutcome, JobQueue, Mailer, SendJob, SendRecords } from '@rapport/core';
// Modules, not the package's index: see handlers/runtime.ts.
import { ConfigError, type Config } from '@rapport/core/config';
import { createDb, type Db } from '@rapport/core/db/client';
import { createSesMailer } from '@rapport/core/email/mailer';
import { BURST_MS, createPacer, inSlot, type Pacer } from '@rapport/core/email/paced';
import { recordedSends } from '@rapport/core/sending/records';
import type { Context } from 'hono';
import { clientAddress } from './client-address';
import { createInProcessQueue, type InProcessQueue } from './adapters/in-process-queue';
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
    records: overrides.records ?? (config.sesEndpoint ? localSesRecords(config.sesEndpoint, linkSecret) : recordedSends(db)),
    clientAddress: overrides.clientAddress ?? clientAddress,
  };
  return deps;
}

/**
/**
 * The local SES server's store as the record of sent emails (`adapters/ses-store-records.ts`),
 * imported when made: on Lambda there is no such server, and the API's INIT, which imports this
 * module, stays without the adapter and the email code it reads tags with.
 */
function localSesRecords(sesEndpoint: string, linkSecret: string): SendRecords {
  const records = import('./adapters/ses-store-records').then((m) => m.sesStoreRecords(sesEndpoint, linkSecret));
  return {
    firstEmails: async (refs, options) => (await records).firstEmails(refs, options),
    reminders: async (refs) => (await records).reminders(refs),
    mails: async (refs) => (await records).mails(refs),
  };
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
  const pacer: Pacer = { take: () => paced().take(), charge: () => paced().charge(), giveBack: () => paced().giveBack() };
  return createInProcessQueue(
    async (job) => {
      // Loaded by the first job: the API's Lambda queues to SQS and never runs one, and its INIT,
      // which imports this module, stays without the sending code.
      const { deliver } = await import('@rapport/core/sending/dispatch');
      const worker = deliveryDeps(deps());
      const outcome = await inSlot(pacer, worker.mailer, (mailer) => deliver({ ...worker, mailer }, job));
      observe?.(job, outcome);
    },
    { concurrency, pacer },
  );
}

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
