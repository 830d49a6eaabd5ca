import { ConfigError, createDb, createSesMailer, deliverInvitation, type Config, type Db, type JobQueue, type Mailer } from '@rapport/core';
import { createInProcessQueue } from './adapters/in-process-queue';

/** What the handlers need, built once per process (Lambda container or local runner). */
export interface Deps {
  config: Config;
  db: Db;
  now: () => Date;
  /** Signs and checks the links in survey emails. */
  linkSecret: string;
  mailer: Mailer;
  /** Where send jobs go: in process by default; SQS on AWS. */
  queue: JobQueue;
}

export function createDeps(config: Config, overrides: Partial<Omit<Deps, 'config'>> = {}): Deps {
  const linkSecret = overrides.linkSecret ?? config.linkSecret;
  if (!linkSecret) throw new ConfigError('Invalid configuration: LINK_SECRET is required (at least 32 characters)');
  const deps: Deps = {
    config,
    linkSecret,
    db: overrides.db ?? createDb({ region: config.region, endpoint: config.dynamoEndpoint, table: config.table }),
    now: overrides.now ?? (() => new Date()),
    mailer: overrides.mailer ?? createSesMailer({ region: config.region, endpoint: config.sesEndpoint }),
    // The in-process worker reads the finished deps when a job runs.
    queue: overrides.queue ?? createInProcessQueue((job) => deliverInvitation(deliveryDeps(deps), job)),
  };
  return deps;
}

/** The worker's view of the deps. */
export const deliveryDeps = (deps: Deps) => ({
  db: deps.db,
  mailer: deps.mailer,
  linkSecret: deps.linkSecret,
  publicUrl: deps.config.publicUrl,
  mailFrom: deps.config.mailFrom,
  now: deps.now,
});
