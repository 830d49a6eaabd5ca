import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryDeps } from '@rapport/core';
// Modules, not the package's index: the API's INIT imports this file, and esbuild's code splitting
// would put all that the index re-exports, and a route group uses, in INIT's chunk.
import { ConfigError, loadConfig, type Config } from '@rapport/core/config';
import { createDb, type Db } from '@rapport/core/db/client';
import { BURST_MS, createSharedPacer, type SharedPacer } from '@rapport/core/email/paced';
import { Resource } from 'sst';
import type { SqsQueue } from '../adapters/sqs-queue';
import { logger } from '../logger';

/**
 * What the handlers build once per Lambda container, on first use, and keep warm between
 * invocations. Each handler takes only what it needs (the SES-event handler a table client, the
 * jobs a table, the queue and SES, the sender a table and SES), so each bundle carries only those
 * SDK clients.
 */

/**
 * The resources `infra/` links to the functions, as SST's `Resource` exposes them. The names are
 * the components' names in `infra/` (`new sst.aws.Dynamo('Table', …)` is `Resource.Table`).
 */
interface Linked {
  Table: { name: string };
  LinkSecret: { value: string };
  SendQueue: { url: string };
}

/** A linked resource, or undefined when the code runs outside SST (the local runner, tests). */
function linked<K extends keyof Linked>(name: K): Linked[K] | undefined {
  try {
    return name in Resource ? (Resource as unknown as Linked)[name] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The environment the core's `loadConfig` reads, on Lambda: the linked resources (table name,
 * link-signing secret, queue URL) first, then plain variables (`PUBLIC_URL`, `MAIL_FROM`,
 * `SEND_RATE_PER_SECOND`, set per stage by `infra/`). Outside SST the variables alone serve, so
 * the handlers run the same against DynamoDB Local and the local SES server.
 */
export function lambdaEnv(env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  return {
    ...env,
    TABLE_NAME: linked('Table')?.name ?? env.TABLE_NAME,
    LINK_SECRET: linked('LinkSecret')?.value ?? env.LINK_SECRET,
    SEND_QUEUE_URL: linked('SendQueue')?.url ?? env.SEND_QUEUE_URL,
  };
}

interface Built {
  env?: Record<string, string | undefined>;
  config?: Config;
  db?: Db;
  queue?: Promise<SqsQueue>;
  delivery?: DeliveryDeps;
  pacer?: SharedPacer;
  sqs?: SQSClient;
}
let built: Built = {};

/** What `make` builds, once per container (until `resetLambdaDeps`): for builders in other modules. */
export const once = <K extends keyof Built>(key: K, make: () => NonNullable<Built[K]>): NonNullable<Built[K]> => (built[key] ??= make());

const env = () => (built.env ??= lambdaEnv());
export const lambdaConfig = (): Config => (built.config ??= loadConfig(env()));
export const lambdaDb = (): Db => {
  const c = lambdaConfig();
  return (built.db ??= createDb({ region: c.region, endpoint: c.dynamoEndpoint, table: c.table }));
};
export const now = () => new Date();

export function linkSecret(config: Config): string {
  if (!config.linkSecret) throw new ConfigError('Invalid configuration: LINK_SECRET is required (at least 32 characters)');
  return config.linkSecret;
}

/**
 * Send jobs go to SQS (`SEND_QUEUE_URL`; `SQS_ENDPOINT` points the client elsewhere). The SQS
 * client is imported when the first job is queued: most API requests queue none, nor does a
 * sender's batch whose slots are all due, and their cold start does not load it.
 */
export function lambdaQueue(): SqsQueue {
  const { SEND_QUEUE_URL: queueUrl, SQS_ENDPOINT: endpoint } = env();
  if (!queueUrl) throw new ConfigError('Invalid configuration: SEND_QUEUE_URL is required to queue send jobs');
  const queue = () =>
    (built.queue ??= Promise.all([import('@aws-sdk/client-sqs'), import('../adapters/sqs-queue')]).then(([{ SQSClient }, { createSqsQueue }]) => {
      built.sqs = new SQSClient({
        region: lambdaConfig().region,
        // A local or test endpoint accepts any credentials; fixed ones avoid the AWS profile chain.
        ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
      });
      return createSqsQueue({ client: built.sqs, queueUrl });
    }));
  return { enqueue: async (jobs, options) => (await queue()).enqueue(jobs, options), defer: async (jobs) => (await queue()).defer(jobs) };
}

/**
 * The account's sending rate (`SEND_RATE_PER_SECOND`), its slots kept in the table for every
 * sender at once, whatever their number (infra bounds it: `sending.concurrency`) and however often
 * their containers are replaced. Slots are promised at most SQS's longest delay ahead.
 */
export const lambdaPacer = (): SharedPacer =>
  (built.pacer ??= createSharedPacer(lambdaDb(), { ratePerSecond: lambdaConfig().sendRatePerSecond, burstMs: BURST_MS, withinMs: MAX_DELAY_MS }));

/** SQS delays a message at most 15 minutes: no slot is promised further ahead. */
export const MAX_DELAY_MS = 900_000;

/** Forgets what was built (tests that change the environment between cases). */
export function resetLambdaDeps(): void {
  built.db?.client.destroy();
  built.sqs?.destroy();
  built = {};
}
