import { email } from './email';
import { linkSecret } from './secrets';
import { commonEnvironment, handlers, settings } from './settings';
import { table } from './table';

const { sending } = settings;
/**
 * The sender's timeout: the records of a batch run at once and none waits for its sending slot
 * (those not due go back to the queue), so one record's worst case: SES's attempts with backoff
 * (1.5 s), the table writes and the SQS call, with room to spare.
 */
const SENDER_TIMEOUT_SECONDS = 30;

/**
 * Send jobs that failed `sending.maxReceives` times (a body that is not a job, an invitation that
 * keeps failing): kept `retention.deadLetterDays` for inspection, and redriven by hand from the
 * SQS console once the cause is fixed. Nothing reads it automatically.
 */
export const deadLetters = new sst.aws.Queue('SendDeadLetters', {
  transform: {
    queue: (args) => {
      args.messageRetentionSeconds = settings.retention.deadLetterDays * 86_400;
    },
  },
});

/**
 * One message per job (`{ kind, roundId, invitationId[, dueAt] }`, or a summary's `{ kind, agencyId[, proId], period }`: ids, no address).
 * Who writes: the API (a new round's invitations, early warnings on a low answer), the
 * scheduled job (reminders, lost invitations), the summary job (one job per due agency) and the
 * sender itself (an agency's pros' summaries, and what SES did not take, delayed).
 * Who reads: the sender below. The visibility timeout is six times the sender's timeout, as AWS
 * advises, so a batch still running is not delivered twice.
 */
export const sendQueue = new sst.aws.Queue('SendQueue', {
  visibilityTimeout: `${SENDER_TIMEOUT_SECONDS * 6} seconds`,
  dlq: { queue: deadLetters.arn, retry: sending.maxReceives },
});

/**
 * The send worker: batches of up to ten, partial batch responses (only the failed records return
 * to the queue), at most `sending.concurrency` at once (the event source's maximum concurrency,
 * which, unlike reserved concurrency, never throttles a batch back into the queue and toward the
 * dead-letter queue). Together they keep `sending.ratePerSecond` without waiting: the slots are
 * the account's, kept in the table (`handlers/sender.ts`); a record whose slot is not due goes back
 * on the queue, delayed until it, so no Lambda time is spent waiting. Linked to the table,
 * the secret (it signs the links), the email identity (it sends) and its own queue (an email SES
 * did not take, throttled or down, goes back on it with a delay). `publicUrl` is where the
 * links in the emails point: the API's address, known once the API is declared (`infra/api.ts`).
 */
export function subscribeSender(publicUrl: $util.Input<string>) {
  return sendQueue.subscribe(
    {
      handler: `${handlers}/sender.handler`,
      link: [table, linkSecret, email, sendQueue],
      environment: {
        ...commonEnvironment,
        PUBLIC_URL: publicUrl,
        SENDER_MAX_RECEIVES: String(sending.maxReceives),
      },
      timeout: `${SENDER_TIMEOUT_SECONDS} seconds`,
      // The rarer job kinds are chunks loaded on their first job (`sending/dispatch.ts`): a cold
      // sender parses the invitation and reminder path only.
      nodejs: { splitting: true },
    },
    {
      batch: { size: 10, window: '2 seconds', partialResponses: true },
      transform: {
        eventSourceMapping: (args) => {
          args.scalingConfig = { maximumConcurrency: sending.concurrency };
        },
      },
    },
  );
}
