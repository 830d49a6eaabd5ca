import type { JobQueue, Mailer, SendRecords } from '@rapport/core';
// Modules, not the package's index: see handlers/runtime.ts.
import { ConfigError, type Config } from '@rapport/core/config';
import { createDb } from '@rapport/core/db/client';
import type { SesMailerOptions } from '@rapport/core/email/mailer';
import { clientAddress } from './client-address';
import type { Deps } from './deps';

/**
 * The app's deps around a queue the caller made: SQS on Lambda (`handlers/api.ts`); `createDeps`
 * (`deps.ts`) adds the local runner's defaults, the in-process queue and the local SES server's
 * store. Apart from `deps.ts` so that the API's bundle holds neither: esbuild bundles every module
 * `import()`ed anywhere in its graph, and with code splitting each such module is an entry whose
 * shared modules become chunks of their own, files INIT loads (docs/DESIGN-NOTES.md, "Cold start").
 */
export function appDeps(config: Config, parts: Partial<Omit<Deps, 'config'>> & { queue: JobQueue }): Deps {
  const linkSecret = parts.linkSecret ?? config.linkSecret;
  if (!linkSecret) throw new ConfigError('Invalid configuration: LINK_SECRET is required (at least 32 characters)');
  const db = parts.db ?? createDb({ region: config.region, endpoint: config.dynamoEndpoint, table: config.table });
  return {
    config,
    linkSecret,
    db,
    now: parts.now ?? (() => new Date()),
    mailer: parts.mailer ?? sesOnFirstSend({ region: config.region, endpoint: config.sesEndpoint }),
    queue: parts.queue,
    records: parts.records ?? recordsOnFirstUse(async () => (await import('@rapport/core/sending/records')).recordedSends(db)),
    clientAddress: parts.clientAddress ?? clientAddress,
  };
}

/**
 * SES, its client and the MIME composition imported and made by the first send. The API's Lambda
 * queues its send jobs to SQS and never sends (the in-process queue of the local runner and tests
 * does), so its INIT stays without them.
 */
function sesOnFirstSend(options: SesMailerOptions): Mailer {
  let made: Promise<Mailer> | undefined;
  return { send: async (message) => (await (made ??= import('@rapport/core/email/mailer').then((m) => m.createSesMailer(options)))).send(message) };
}

/**
 * The record of sent emails (SES's `Send` events in the table, or locally the local SES server's
 * store), imported and made by its first read: routes read it (a round's progress, its
 * responses), the API's INIT does not.
 */
export function recordsOnFirstUse(load: () => Promise<SendRecords>): SendRecords {
  let made: Promise<SendRecords> | undefined;
  const records = () => (made ??= load());
  return {
    firstEmails: async (refs, options) => (await records()).firstEmails(refs, options),
    reminders: async (refs) => (await records()).reminders(refs),
    mails: async (refs) => (await records()).mails(refs),
  };
}
