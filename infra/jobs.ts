import { sendQueue } from './sender';
import { commonEnvironment, handlers, settings } from './settings';
import { table } from './table';
import { tableDefinition } from '../packages/core/src/db/table-definition';
import { everySeconds } from '../stacks/settings';

type Schedule = `rate(${string})` | `cron(${string})`;

const jobsFunction = {
  handler: `${handlers}/jobs.handler`,
  link: [table, sendQueue],
  environment: commonEnvironment,
  timeout: '5 minutes' as const,
};

/**
 * The scheduled jobs (EventBridge Scheduler through `sst.aws.CronV2`). Each schedule invokes its
 * own function, running the jobs handler with the event naming its job (`handlers/jobs.ts`). Both
 * jobs are harmless when run twice or overlapping, so no retries: the next run catches up.
 */

/**
 * `scheduled`: closes rounds whose time is up or comes before the next run (queued to run at their
 * time), queues due reminders and lost invitations to the send queue, sweeps webhooks. Hourly: it
 * is told how often it runs (`everySeconds`), to look that far ahead. Linked to the table and the
 * send queue; it sends no email itself.
 */
export const scheduledJob = new sst.aws.CronV2('ScheduledJob', {
  schedule: settings.schedules.scheduled as Schedule,
  event: { job: 'scheduled', everySeconds: everySeconds(settings.schedules.scheduled) },
  retries: 0,
  function: jobsFunction,
});

/**
 * New webhook events, from the table's stream (keys only, INSERTs of event items, filtered by
 * Lambda at no charge), fanned out by the jobs function at once rather than at the next hourly
 * run, which still sweeps up any this misses. Two retries, halving the batch, then the records are
 * left to that sweep rather than holding up the shard.
 */
export const webhookEvents = table.subscribe('WebhookEvents', { ...jobsFunction, timeout: '1 minute' as const }, {
  filters: [{ eventName: ['INSERT'], dynamodb: { Keys: { PK: { S: [{ prefix: tableDefinition.webhookEventPrefix }] } } } }],
  transform: {
    eventSourceMapping: (args: { maximumRetryAttempts?: unknown; bisectBatchOnFunctionError?: unknown }) => {
      args.maximumRetryAttempts = 2;
      args.bisectBatchOnFunctionError = true;
    },
  },
});

/**
 * `summaries`: queues one job per agency whose weekly or monthly slot has passed in its time zone
 * and whose summaries of the period are not all settled; the sender lists its pros and sends each
 * pro's improvement summary (and the agency summary to its admins), one per period ever, within
 * the account's SES rate. Linked to the table and the send queue; it sends no email itself.
 */
export const summaryJob = new sst.aws.CronV2('SummaryJob', {
  schedule: settings.schedules.summaries as Schedule,
  event: { job: 'summaries' },
  retries: 0,
  function: jobsFunction,
});
