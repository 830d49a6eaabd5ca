import type { DeliveryDeps } from '@rapport/core';
// Modules, not the package's index: see runtime.ts.
import { createSesMailer } from '@rapport/core/email/mailer';
import { recordedSends } from '@rapport/core/sending/records';
import { logger } from '../logger';
import { lambdaConfig, lambdaDb, lambdaQueue, linkSecret, now, once } from './runtime';

/**
 * What the send worker needs on Lambda: the table, SES, the secret that signs links, the public
 * URL. Apart from `runtime.ts`, which the API's handler imports: esbuild's code splitting puts the
 * modules a file imports in the chunks of every entry that imports the file, used or not, and the
 * API's INIT would hold the SES client and the record of sends, which its Lambda never uses.
 */
export const lambdaDelivery = (): DeliveryDeps =>
  once('delivery', () => {
    const config = lambdaConfig();
    return {
      db: lambdaDb(),
      // Paced by the sender, which runs a job only once it holds a slot (`lambdaPacer`).
      mailer: createSesMailer({ region: config.region, endpoint: config.sesEndpoint }),
      linkSecret: linkSecret(config),
      publicUrl: config.publicUrl,
      mailFrom: config.mailFrom,
      // An email SES did not take goes back on the queue, delayed (the sender is linked to it).
      requeue: (job, delaySeconds) => lambdaQueue().enqueue([job], { delaySeconds }),
      warn: (message, fields) => logger.warn(message, fields),
      records: recordedSends(lambdaDb()),
      webhooks: { allowLoopback: config.webhooksAllowLoopback, retrySeconds: config.webhookRetrySeconds },
      now,
    };
  });
