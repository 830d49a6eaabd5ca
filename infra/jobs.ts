import { linkSecret } from './secrets';
import { sendQueue } from './sender';
import { commonEnvironment, handlers, settings } from './settings';
import { table } from './table';

/**
 * The scheduled jobs (EventBridge Scheduler through `sst.aws.CronV2`). Each schedule invokes the
 * jobs function with the event naming its job (`handlers/jobs.ts`).
 * - `scheduled`: closes rounds whose time is up, queues due reminders and lost invitations to
 *   the send queue. Harmless when run twice or overlapping, so no retries: the next run catches up.
 * - The improvement summaries (issue 5) will be a second CronV2 here, weekly/monthly per agency.
 * Linked to the table and the send queue (and the secret, which the shared deps require).
 */
export const scheduledJob = new sst.aws.CronV2('ScheduledJob', {
  schedule: settings.schedules.scheduled as `rate(${string})` | `cron(${string})`,
  event: { job: 'scheduled' },
  retries: 0,
  function: {
    handler: `${handlers}/jobs.handler`,
    link: [table, linkSecret, sendQueue],
    environment: commonEnvironment,
    timeout: '5 minutes',
  },
});
