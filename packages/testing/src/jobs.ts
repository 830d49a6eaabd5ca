import type { DeliveryDeps, JobQueue, SendJob } from '@rapport/core';
import type { Deps } from '@rapport/functions';

/** A queue that keeps what it is given, so the test decides when (and how often) jobs run. */
export function collectingQueue(): JobQueue & { jobs: SendJob[] } {
  const jobs: SendJob[] = [];
  return { jobs, enqueue: async (added) => void jobs.push(...added) };
}

/** The send worker's deps on test deps, at a fixed clock, through `mailer` (theirs by default): no requeue. */
export const workerAt = (deps: Pick<Deps, 'db' | 'mailer' | 'linkSecret'>, at: Date, mailer = deps.mailer): DeliveryDeps => ({
  db: deps.db,
  mailer,
  linkSecret: deps.linkSecret,
  publicUrl: 'http://localhost:3000',
  mailFrom: 'surveys@rapport.example',
  now: () => at,
});
