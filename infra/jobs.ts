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
 * The one schedule (EventBridge Scheduler through `sst.aws.CronV2`), invoking its own function with
 * the jobs handler and the event naming its job (`handlers/jobs.ts`): `scheduled` closes rounds
 * whose time is up or comes before the next run (queued to run at their time), queues due
 * reminders and lost invitations to the send queue, sweeps webhooks, and queues the improvement
 * summaries due (one job per agency whose weekly or monthly slot has passed in its time zone; the
 * sender lists its pros and sends each one's summary, and the agency summary to its admins). One
 * schedule rather than one per job: each run is an invocation billed twice (Scheduler and Lambda),
 * and the summaries need only an hourly look. Hourly: it is told how often it runs
 * (`everySeconds`), to look that far ahead. Linked to the table and the send queue; it sends no
 * email itself. Harmless when run twice or overlapping, so no retries: the next run catches up.
 */
export const scheduledJob = new sst.aws.CronV2('ScheduledJob', {
  schedule: settings.schedule as Schedule,
  event: { job: 'scheduled', everySeconds: everySeconds(settings.schedule) },
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
