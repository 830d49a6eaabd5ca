import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, loadConfig } from '@rapport/core';
import { Resource } from 'sst';
import { createSqsQueue } from '../adapters/sqs-queue';
import { createDeps, type Deps } from '../deps';

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
 * link-signing secret) first, then plain variables (`PUBLIC_URL`, `MAIL_FROM`,
 * `SEND_RATE_PER_SECOND`, set per stage by `infra/`). Outside SST the variables alone serve, so the
 * handlers run the same against DynamoDB Local and the local SES server.
 */
export function lambdaEnv(env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  return {
    ...env,
    TABLE_NAME: linked('Table')?.name ?? env.TABLE_NAME,
    LINK_SECRET: linked('LinkSecret')?.value ?? env.LINK_SECRET,
    SEND_QUEUE_URL: linked('SendQueue')?.url ?? env.SEND_QUEUE_URL,
  };
}

let deps: Deps | undefined;

/**
 * The handlers' deps, built once per Lambda container on first use and kept warm between
 * invocations. Send jobs go to SQS (`SEND_QUEUE_URL`; `SQS_ENDPOINT` points the client elsewhere).
 */
export function lambdaDeps(): Deps {
  if (deps) return deps;
  const env = lambdaEnv();
  const config = loadConfig(env);
  let queue: ReturnType<typeof createSqsQueue> | undefined;
  const sqsQueue = () => {
    if (queue) return queue;
    if (!env.SEND_QUEUE_URL) throw new ConfigError('Invalid configuration: SEND_QUEUE_URL is required to queue send jobs');
    const client = new SQSClient({
      region: config.region,
      // A local or test endpoint accepts any credentials; fixed ones avoid the AWS profile chain.
      ...(env.SQS_ENDPOINT ? { endpoint: env.SQS_ENDPOINT, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    });
    return (queue = createSqsQueue({ client, queueUrl: env.SEND_QUEUE_URL }));
  };
  // The API enqueues a round's invitations; the scheduled job, reminders. The sender never does.
  deps = createDeps(config, { queue: { enqueue: (jobs) => sqsQueue().enqueue(jobs) } });
  return deps;
}

/** Forgets the deps built so far (tests that change the environment between cases). */
export function resetLambdaDeps(): void {
  deps?.db.client.destroy();
  deps = undefined;
}
