import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deliver } from '@rapport/core';
import { decodeJob } from '../adapters/sqs-queue';
import { errorFields, logger } from '../logger';
import { lambdaDelivery } from './runtime';

/**
 * The send worker on AWS, fed by the send queue in batches (`infra/sender.ts`). Each record is one
 * job; the worker makes a job found twice send once. Records are handled one after another; the
 * mailer starts at most `SEND_RATE_PER_SECOND / SENDER_CONCURRENCY` SES calls a second, so the
 * senders together stay within the account's SES rate, and a record with nothing left to send
 * (sent already, claimed elsewhere) passes at once. A record that fails (a body that is not a job, an unexpected
 * error) is reported in `batchItemFailures`: SQS retries only that one, and after the queue's
 * receive limit (`SENDER_MAX_RECEIVES`) moves it to the dead-letter queue; its invitation is not
 * lost, its lease runs out and the recovery sweep queues it again. A job whose email SES refused
 * for good is not a failure here: the worker has marked the invitation `failed` itself.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  const deps = lambdaDelivery();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const [i, record] of event.Records.entries()) {
    if (context.getRemainingTimeInMillis() < TIME_PER_RECORD_MS) {
      // Not enough time left for one more email with its retries: hand the rest back to SQS now
      // rather than time out, which would return the whole batch, the sent ones too.
      logger.warn('out of time, returning records to the queue', { returned: event.Records.length - i });
      batchItemFailures.push(...event.Records.slice(i).map((r) => ({ itemIdentifier: r.messageId })));
      break;
    }
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
      // Even after the last receive nothing is marked failed: the invitation's lease runs out and
      // the recovery sweep queues it again (and the message stays in the dead-letter queue to look at).
      logger.error('send job failed', { ...fields, lastReceive: fields.receiveCount >= maxReceives(), ...errorFields(error) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

/** The longest one record can take: a wait for its sending slot, SES's three attempts with backoff (1.5 s) and the writes. */
const TIME_PER_RECORD_MS = 15_000;

/** Receives of a message before SQS moves it to the dead-letter queue (the queue's redrive policy). */
const maxReceives = () => Math.max(1, Number(process.env.SENDER_MAX_RECEIVES) || 3);
