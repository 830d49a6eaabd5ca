import type { DeliveryDeps, DeliveryOutcome, JobQueue, Mailer, SendJob, SendRecords } from '@rapport/core';
// Modules, not the package's index: see handlers/runtime.ts.
import type { Config } from '@rapport/core/config';
import type { Db } from '@rapport/core/db/client';
import { BURST_MS, createPacer, inSlot, type Pacer } from '@rapport/core/email/paced';
import type { Context } from 'hono';
import { appDeps, recordsOnFirstUse } from './app-deps';
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

/**
 * The app's deps, by default as the local runner and the tests run: send jobs go to the in-process
 * queue, and with a local SES server its store is the record of sent emails (`appDeps` for the rest).
 */
export function createDeps(config: Config, overrides: Partial<Omit<Deps, 'config'>> = {}): Deps {
  const { sesEndpoint } = config;
  const linkSecret = overrides.linkSecret ?? config.linkSecret;
  const deps: Deps = appDeps(config, {
    ...overrides,
    queue: overrides.queue ?? inProcessSendQueue(() => deps, { ratePerSecond: config.sendRatePerSecond }),
    ...(!overrides.records && sesEndpoint && linkSecret
      ? { records: recordsOnFirstUse(async () => (await import('./adapters/ses-store-records')).sesStoreRecords(sesEndpoint, linkSecret)) }
      : {}),
  });
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
  // Loaded by the first job: the API's Lambda queues to SQS and never runs one, and its INIT,
  // which imports this module, stays without the sending code. Kept, not imported again per job:
  // under a loader (tsx) every import() asks its thread to resolve the name again.
  let dispatch: Promise<typeof import('@rapport/core/sending/dispatch')> | undefined;
  const pacer: Pacer = { take: () => paced().take(), charge: () => paced().charge(), giveBack: () => paced().giveBack() };
  return createInProcessQueue(
    async (job) => {
      const { deliver } = await (dispatch ??= import('@rapport/core/sending/dispatch'));
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
