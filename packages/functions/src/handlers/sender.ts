import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliver, transitionInvitation, type DeliveryDeps, type SendJob } from '@rapport/core';
import { decodeJob } from '../adapters/sqs-queue';
import { errorFields, logger } from '../logger';
import { lambdaConfig, lambdaDelivery } from './runtime';

/**
 * The send worker on AWS, fed by the send queue in batches (`infra/sender.ts`). Each record is one
 * job; the worker makes a job found twice send once. Records are handled one after another, at most
 * `SEND_RATE_PER_SECOND / SENDER_CONCURRENCY` starting per second, so the senders together stay
 * within the account's SES rate. A record that fails (a body that is not a job, an unexpected
 * error) is reported in `batchItemFailures`: SQS retries only that one, and after the queue's
 * receive limit (`SENDER_MAX_RECEIVES`) moves it to the dead-letter queue. On that last receive a
 * first email still `pending` is marked `failed` too, so the round shows it and the scheduled job
 * stops queuing it again. A job whose email SES refused for good is not a failure here: the
 * worker has marked the invitation `failed` itself.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  const deps = lambdaDelivery();
  const gapMs = 1000 / Math.max(1, lambdaConfig().sendRatePerSecond / concurrency());
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  let nextStart = 0;
  for (const [i, record] of event.Records.entries()) {
    if (context.getRemainingTimeInMillis() < TIME_PER_RECORD_MS) {
      // Not enough time left for one more email with its retries: hand the rest back to SQS now
      // rather than time out, which would return the whole batch, the sent ones too.
      logger.warn('out of time, returning records to the queue', { returned: event.Records.length - i });
      batchItemFailures.push(...event.Records.slice(i).map((r) => ({ itemIdentifier: r.messageId })));
      break;
    }
    const wait = nextStart - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    nextStart = Date.now() + gapMs;
    const job = decodeJob(record.body);
    if (!job) {
      logger.error('not a send job', { messageId: record.messageId });
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    // Jobs carry ids only: all of them go in the log line.
    const fields = { messageId: record.messageId, ...job, receiveCount: Number(record.attributes.ApproximateReceiveCount) };
    try {
      logger.info('send job done', { ...fields, outcome: await deliver(deps, job) });
    } catch (error) {
      const last = fields.receiveCount >= maxReceives();
      logger.error('send job failed', { ...fields, lastReceive: last, ...errorFields(error) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
      if (last) await markFailed(deps, job);
    }
  }
  return { batchItemFailures };
}

/**
 * A first email whose job goes to the dead-letter queue: `pending` → `failed` (with the round's
 * counts), conditional like every transition, so it changes nothing if the invitation moved on.
 * A reminder's invitation was delivered already and keeps its status.
 */
async function markFailed(deps: DeliveryDeps, job: SendJob): Promise<void> {
  if (job.kind !== 'invitation') return;
  try {
    const set = { failedAt: deps.now().toISOString(), failure: 'DeadLetter' };
    if (await transitionInvitation(deps.db, job.roundId, job.invitationId, 'pending', 'failed', { set })) {
      logger.warn('invitation failed: its send job went to the dead-letter queue', { roundId: job.roundId, invitationId: job.invitationId });
    }
  } catch (error) {
    logger.error('could not mark the invitation failed', { roundId: job.roundId, invitationId: job.invitationId, ...errorFields(error) });
  }
}

/** The longest one record can take: SES's five attempts with backoff (7.5 s) and the writes. */
const TIME_PER_RECORD_MS = 15_000;

/** Receives of a message before SQS moves it to the dead-letter queue (the queue's redrive policy). */
const maxReceives = () => Math.max(1, Number(process.env.SENDER_MAX_RECEIVES) || 3);

/** Sender Lambdas running at once at most (the event source's maximum concurrency, set by infra). */
const concurrency = () => Math.max(1, Number(process.env.SENDER_CONCURRENCY) || 1);
