import type { DeliveryDeps, DeliveryOutcome, JobQueue, Mailer, SendJob, SendRecords } from '@rapport/core';
// Modules, not the package's index: see handlers/runtime.ts.
import { ConfigError, type Config } from '@rapport/core/config';
import { createDb, type Db } from '@rapport/core/db/client';
import { createSesMailer } from '@rapport/core/email/mailer';
import { pacedMailer } from '@rapport/core/email/paced';
import { recordedSends } from '@rapport/core/sending/records';
import type { Context } from 'hono';
import { clientAddress } from './client-address';
import { createInProcessQueue, type InProcessQueue, type InProcessQueueOptions } from './adapters/in-process-queue';
import { logger } from './logger';

/** What the handlers need, built once per process (Lambda container or local runner). */
export interface Deps {
  config: Config;
  db: Db;
  now: () => Date;
  /** Signs and checks the links in survey emails. */
  linkSecret: string;
  /** SES, paced to `SEND_RATE_PER_SECOND` for every kind of mail this process sends. */
  mailer: Mailer;
  /** Where send jobs go: in process by default; SQS on AWS. */
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
    mailer: overrides.mailer ?? pacedMailer(createSesMailer({ region: config.region, endpoint: config.sesEndpoint }), { ratePerSecond: config.sendRatePerSecond }),
    queue: overrides.queue ?? inProcessSendQueue(() => deps),
    records: overrides.records ?? (config.sesEndpoint ? localSesRecords(config.sesEndpoint, linkSecret) : recordedSends(db)),
    clientAddress: overrides.clientAddress ?? clientAddress,
  };
  return deps;
}

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
 * Jobs the in-process sender runs at once for a sending rate: the mailer keeps the rate, but each
 * job also spends 100–250 ms on DynamoDB and SES around its call, so 4 workers alone cap the rate
 * near 20–40 emails a second (the backlog benchmark measured 0.72 of 50/s). A quarter of the rate
 * lets a job take 250 ms without slowing the rate; never fewer than 4.
 */
export const sendConcurrency = (ratePerSecond: number) => Math.max(4, Math.ceil(ratePerSecond / 4));

/**
 * A queue whose jobs the send worker runs in this process. It reads the deps when a job runs, so
 * it can be made before them (they hold it). `observe` hears each job's outcome (`npm run job`).
 */
export function inProcessSendQueue(deps: () => Deps, options: InProcessQueueOptions = {}, observe?: (job: SendJob, outcome: DeliveryOutcome) => void): InProcessQueue {
  return createInProcessQueue(async (job) => {
    // Loaded by the first job: the API's Lambda queues to SQS and never runs one, and its INIT,
    // which imports this module, stays without the sending code.
    const { deliver } = await import('@rapport/core/sending/deliver');
    const outcome = await deliver(deliveryDeps(deps()), job);
    observe?.(job, outcome);
  }, options);
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
