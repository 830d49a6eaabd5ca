import type { Context } from 'aws-lambda';
import { recordedSends, runScheduledJobs, runSummaries, ValidationError } from '@rapport/core';
import { logger } from '../logger';
import { lambdaDb, lambdaQueue, now as clock } from './runtime';

/**
 * What a schedule passes to the jobs function: `infra/jobs.ts` sets it as each `sst.aws.CronV2`'s
 * `event` (EventBridge Scheduler delivers that JSON as is).
 * - `scheduled`: queue a close job per round whose time is up and the reminders due, and recover
 *   the sends whose lease ran out from SES's `Send` events (`runScheduledJobs`), every few minutes.
 * - `summaries`: queue the improvement summaries due, one job per agency whose slot has passed in
 *   its time zone and whose summaries of the period are not all settled (`runSummaries`), hourly;
 *   the sender sends them.
 */
export interface JobEvent {
  job: 'scheduled' | 'summaries';
}

const jobs = {
  scheduled: (now: Date) => runScheduledJobs({ db: lambdaDb(), queue: lambdaQueue(), records: recordedSends(lambdaDb()) }, now),
  summaries: (now: Date) => runSummaries({ db: lambdaDb(), queue: lambdaQueue() }, now),
} satisfies Record<JobEvent['job'], (now: Date) => Promise<object>>;

/** Runs one scheduled job; running it twice or at once with itself is harmless. */
export async function handler(event: JobEvent, context: Context): Promise<object> {
  logger.addContext(context);
  const run = Object.hasOwn(jobs, event?.job) ? jobs[event.job] : undefined;
  if (!run) throw ValidationError.field('job', `must be one of ${Object.keys(jobs).join(', ')}`);
  const now = clock();
  const summary = await run(now);
  logger.info('job done', { job: event.job, at: now.toISOString(), ...summary });
  return { job: event.job, at: now.toISOString(), ...summary };
}
