import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { fanOutEvents, insertedKeys, recordedSends, runScheduledJobs, runSummaries, ValidationError } from '@rapport/core';
import { logger } from '../logger';
import { lambdaDb, lambdaQueue, now as clock } from './runtime';

/**
 * What the schedule passes to the jobs function: `infra/jobs.ts` sets it as the `sst.aws.CronV2`'s
 * `event` (EventBridge Scheduler delivers that JSON as is).
 * - `scheduled`: close the rounds whose time is up or comes before the next run, queue the
 *   reminders due, recover the sends whose lease ran out from SES's `Send` events, sweep webhooks,
 *   and queue the improvement summaries due, one job per agency whose slot has passed in its time
 *   zone and whose summaries of the period are not all settled (`runScheduledJobs` with the
 *   summaries); hourly. `everySeconds`: the time between runs, as the schedule says.
 * - `summaries`: the summaries alone (`runSummaries`); no schedule sends it, an operator may (to
 *   queue them now rather than at the next run).
 * The sender sends what they queue.
 */
export interface JobEvent {
  job: 'scheduled' | 'summaries';
  everySeconds?: number;
}

const jobs = {
  scheduled: (now: Date, everyMs: number) => runScheduledJobs({ db: lambdaDb(), queue: lambdaQueue(), records: recordedSends(lambdaDb()) }, now, everyMs, { summaries: true }),
  summaries: (now: Date) => runSummaries({ db: lambdaDb(), queue: lambdaQueue() }, now),
} satisfies Record<JobEvent['job'], (now: Date, everyMs: number) => Promise<object>>;

/**
 * Runs one job; running it twice or at once with itself is harmless. Also fed by the
 * table's stream, filtered to new webhook events (`infra/jobs.ts`): it fans them out at once,
 * rather than at the next run of the scheduled job (which sweeps up any it misses).
 */
export async function handler(event: JobEvent | DynamoDBStreamEvent, context: Context): Promise<object> {
  logger.addContext(context);
  const now = clock();
  if ('Records' in event && Array.isArray(event.Records)) {
    const fannedOut = await fanOutEvents(lambdaDb(), lambdaQueue(), insertedKeys(event.Records), now);
    logger.info('webhook events fanned out', { records: event.Records.length, fannedOut });
    return { job: 'webhook-events', at: now.toISOString(), fannedOut };
  }
  const { job, everySeconds = 0 } = event as JobEvent;
  const run = Object.hasOwn(jobs, job) ? jobs[job] : undefined;
  if (!run) throw ValidationError.field('job', `must be one of ${Object.keys(jobs).join(', ')}`);
  if (!Number.isInteger(everySeconds) || everySeconds < 0) throw ValidationError.field('everySeconds', 'must be a whole number of seconds');
  const summary = await run(now, everySeconds * 1000);
  logger.info('job done', { job, at: now.toISOString(), ...summary });
  return { job, at: now.toISOString(), ...summary };
}
