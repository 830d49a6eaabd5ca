import { sendQueue } from './sender';
import { commonEnvironment, handlers, settings } from './settings';
import { table } from './table';

type Schedule = `rate(${string})` | `cron(${string})`;

/**
 * The scheduled jobs (EventBridge Scheduler through `sst.aws.CronV2`). Each schedule invokes its
 * own function, running the jobs handler with the event naming its job (`handlers/jobs.ts`). Both
 * jobs are harmless when run twice or overlapping, so no retries: the next run catches up.
 */

/**
 * `scheduled`: closes rounds whose time is up, queues due reminders and lost invitations to the
 * send queue. Linked to the table and the send queue; it sends no email itself.
 */
export const scheduledJob = new sst.aws.CronV2('ScheduledJob', {
  schedule: settings.schedules.scheduled as Schedule,
  event: { job: 'scheduled' },
  retries: 0,
  function: {
    handler: `${handlers}/jobs.handler`,
    link: [table, sendQueue],
    environment: commonEnvironment,
    timeout: '5 minutes',
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
  function: {
    handler: `${handlers}/jobs.handler`,
    link: [table, sendQueue],
    environment: commonEnvironment,
    timeout: '5 minutes',
  },
});
